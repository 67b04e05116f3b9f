"""Text prototypes p_1..p_N from CLIP's frozen text encoder (paper §III-C, Prompt Design).

Two prompt designs (Table VI):

* ``learnable`` — ``[V]_1 … [V]_K [CLASS].`` with K context vectors shared by all part names
  (CoOp's generic context), trained in stage 1 with L_seg while the text encoder stays frozen;
* ``template`` — a hand-crafted sentence such as ``"a [CLASS] part of a person."``.

After prompt learning the prototypes are constants: :meth:`PromptLearner.freeze` encodes them
once into the ``cached`` buffer and drops the text encoder, so inference, checkpoints and
exports need no text tower. A state dict written after freezing loads into a fresh (unfrozen)
learner too: the learner drops its text encoder when the incoming ``frozen`` flag is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import open_clip
import torch
from torch import nn

logger = logging.getLogger(__name__)

#: Part names per region count N (Fig. 3a and §IV-D of the paper).
PART_NAMES: dict[int, tuple[str, ...]] = {
    2: ("upper body", "lower body"),
    3: ("head", "upper body", "lower body"),
    4: ("head", "upper body", "lower body", "foot"),
    5: ("head", "upper body", "lower body", "foot", "bags"),
}

#: The hand-crafted templates compared in Table VI (the last one is the best).
TABLE_VI_TEMPLATES: tuple[str, ...] = (
    "a photo of a [CLASS].",
    "a person photo of a [CLASS].",
    "a photo of a [CLASS] part of a person.",
    "a [CLASS] part of a person.",
)

PROMPT_MODES = ("learnable", "template")


def resolve_part_names(num_regions: int, part_names: Sequence[str] = ()) -> list[str]:
    """``part_names`` if given (checked against ``num_regions``), else the paper's list."""
    if part_names:
        if len(part_names) != num_regions:
            raise ValueError(
                f"rganet.part_names has {len(part_names)} names but rganet.num_regions is "
                f"{num_regions}; give one name per region or leave part_names empty."
            )
        return list(part_names)
    if num_regions not in PART_NAMES:
        raise ValueError(
            f"No default part names for rganet.num_regions={num_regions}; the paper defines "
            f"{sorted(PART_NAMES)}. Set rganet.part_names explicitly."
        )
    return list(PART_NAMES[num_regions])


class TextEncoder(nn.Module):
    """CLIP's text transformer, fed token *embeddings* instead of token ids (frozen).

    Holds open_clip ``CLIP``'s text parts: ``token_embedding``, ``positional_embedding``,
    ``transformer``, ``ln_final``, ``text_projection`` and the causal ``attn_mask``.
    """

    def __init__(self, clip: open_clip.CLIP) -> None:
        super().__init__()
        if getattr(clip, "text_pool_type", "argmax") != "argmax":
            raise ValueError(
                f"Text pooling {clip.text_pool_type!r} is not supported; prompts need CLIP's "
                "end-of-text ('argmax') pooling."
            )
        self.token_embedding = clip.token_embedding
        self.positional_embedding = clip.positional_embedding
        self.transformer = clip.transformer
        self.ln_final = clip.ln_final
        self.text_projection = clip.text_projection
        self.register_buffer("attn_mask", clip.attn_mask, persistent=False)
        for p in self.parameters():
            p.requires_grad_(False)

    @property
    def width(self) -> int:
        return int(self.token_embedding.weight.shape[1])

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token ids ``(P, L)`` → token embeddings ``(P, L, width)``."""
        return self.token_embedding(tokens)

    def forward(self, embeddings: torch.Tensor, eot_index: torch.Tensor) -> torch.Tensor:
        """Prompt embeddings ``(P, L, width)`` → text features ``(P, d)`` (not normalised)."""
        x = embeddings + self.positional_embedding.to(embeddings.dtype)
        mask = self.attn_mask
        x = self.transformer(x, attn_mask=mask.to(x.dtype) if mask is not None else None)
        x = self.ln_final(x)
        x = x[torch.arange(x.shape[0], device=x.device), eot_index]
        proj = self.text_projection
        if proj is None:
            return x
        return proj(x) if isinstance(proj, nn.Linear) else x @ proj

    @torch.no_grad()
    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token ids → text features, like ``CLIP.encode_text`` (argmax = end-of-text)."""
        return self(self.embed(tokens), tokens.argmax(dim=-1))


class PromptLearner(nn.Module):
    """Builds the N part prompts and encodes them into prototypes ``(N, d)``.

    Args:
        text_encoder: the frozen :class:`TextEncoder`.
        tokenizer: open_clip tokenizer for the architecture (``open_clip.get_tokenizer``).
        part_names: the N class names.
        mode: ``"learnable"`` or ``"template"``.
        template: hand-crafted sentence with ``[CLASS]`` (template mode).
        n_ctx: K, the number of learnable context vectors (learnable mode).
        ctx_init: optional phrase of exactly ``n_ctx`` tokens initialising the context vectors.
    """

    def __init__(
        self,
        text_encoder: TextEncoder,
        tokenizer: Callable[[list[str]], torch.Tensor],
        part_names: Sequence[str],
        mode: str = "learnable",
        template: str = "a [CLASS] part of a person.",
        n_ctx: int = 8,
        ctx_init: str = "",
    ) -> None:
        super().__init__()
        if mode not in PROMPT_MODES:
            raise ValueError(f"rganet.prompt.mode must be one of {PROMPT_MODES}, got {mode!r}")
        self.mode = mode
        self.part_names = list(part_names)
        self.text_encoder: TextEncoder | None = text_encoder
        num = len(self.part_names)
        if mode == "template":
            if "[CLASS]" not in template:
                raise ValueError(
                    f"rganet.prompt.template {template!r} has no [CLASS] placeholder; e.g. "
                    f"{TABLE_VI_TEMPLATES[-1]!r}."
                )
            self.sentences = [template.replace("[CLASS]", name) for name in self.part_names]
            tokens = tokenizer(self.sentences)
            self.register_buffer("tokens", tokens, persistent=False)
            self.ctx = None
        else:
            if n_ctx < 1:
                raise ValueError(f"rganet.prompt.n_ctx must be >= 1, got {n_ctx}")
            placeholder = " ".join(["X"] * n_ctx)
            self.sentences = [f"{placeholder} {name}." for name in self.part_names]
            tokens = tokenizer(self.sentences)
            if not bool((tokens[:, 1 : 1 + n_ctx] == tokens[0, 1]).all()):
                raise RuntimeError("The tokenizer did not map the context placeholder to K tokens")
            # the start/class/end token embeddings are looked up at each encode(), so loading
            # text weights after construction (a checkpoint) changes them too
            self.register_buffer("tokens", tokens, persistent=False)
            self.ctx = nn.Parameter(self._init_ctx(text_encoder, tokenizer, n_ctx, ctx_init))
            self.ctx.requires_grad_(False)  # trainable only in stage 1 (RGANet.set_stage)
        self.register_buffer("eot_index", tokens.argmax(dim=-1), persistent=False)
        dim = self._feature_dim(text_encoder)
        self.register_buffer("cached", torch.zeros(num, dim))
        self.register_buffer("frozen", torch.tensor(False))

    @staticmethod
    def _feature_dim(text_encoder: TextEncoder) -> int:
        proj = text_encoder.text_projection
        if proj is None:
            return text_encoder.width
        return int(proj.out_features if isinstance(proj, nn.Linear) else proj.shape[1])

    @staticmethod
    def _init_ctx(text_encoder: TextEncoder, tokenizer, n_ctx: int, ctx_init: str) -> torch.Tensor:
        if not ctx_init:
            return torch.empty(n_ctx, text_encoder.width).normal_(std=0.02)
        tokens = tokenizer([ctx_init])
        length = int(tokens.argmax(dim=-1)[0]) - 1  # tokens between start and end of text
        if length != n_ctx:
            raise ValueError(
                f"rganet.prompt.ctx_init {ctx_init!r} has {length} tokens but "
                f"rganet.prompt.n_ctx is {n_ctx}; they must match."
            )
        with torch.no_grad():
            return text_encoder.embed(tokens)[0, 1 : 1 + n_ctx].clone()

    @property
    def is_frozen(self) -> bool:
        return bool(self.frozen)

    @property
    def num_prototypes(self) -> int:
        return len(self.part_names)

    def encode(self) -> torch.Tensor:
        """Run the text encoder on the current prompts → ``(N, d)`` (gradient flows to ctx)."""
        if self.text_encoder is None:
            raise RuntimeError("freeze() dropped the text encoder; use the cached prototypes")
        embeddings = self.text_encoder.embed(self.tokens)
        if self.ctx is not None:  # [SOS] [V]_1..[V]_K [CLASS] . [EOS]
            n_ctx = self.ctx.shape[0]
            ctx = self.ctx.unsqueeze(0).expand(self.num_prototypes, -1, -1)
            embeddings = torch.cat([embeddings[:, :1], ctx.to(embeddings.dtype),
                                    embeddings[:, 1 + n_ctx :]], dim=1)
        return self.text_encoder(embeddings, self.eot_index)

    def forward(self) -> torch.Tensor:
        """The prototypes ``(N, d)``: cached after :meth:`freeze`, else freshly encoded."""
        return self.cached if self.is_frozen else self.encode()

    @torch.no_grad()
    def freeze(self) -> None:
        """Encode the prototypes once into ``cached`` and drop the text encoder."""
        if self.is_frozen:
            return
        self.cached.copy_(self.encode())
        self.frozen.fill_(True)
        self.drop_text_encoder()
        logger.info("Prototypes for %s cached; text encoder dropped", self.part_names)

    def drop_text_encoder(self) -> None:
        """Release the text tower (prototypes must then come from ``cached``)."""
        self.text_encoder = None
        if hasattr(self, "tokens"):
            delattr(self, "tokens")
        if self.ctx is not None:
            self.ctx.requires_grad_(False)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        flag = state_dict.get(prefix + "frozen")
        if flag is not None and bool(flag) and self.text_encoder is not None:
            self.drop_text_encoder()  # the checkpoint holds cached prototypes, no text tower
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return f"mode={self.mode}, parts={self.part_names}, frozen={self.is_frozen}"
