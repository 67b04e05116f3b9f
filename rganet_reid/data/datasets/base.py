"""Base class for every dataset rganet-reid registers with torchreid.

torchreid's ``Dataset.__init__`` indexes ``train[0]`` and so crashes on test-only datasets
(Partial-REID, Partial-iLIDS, Occluded-REID have no training split). ``ReIDImageDataset``
accepts an empty train list properly, keeps torchreid's attributes and behaviour otherwise
(so ``torchreid.data.ImageDataManager`` and our own data manager both work with it), logs a
statistics table instead of printing, and gives actionable errors for a missing tree.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from tabulate import tabulate

from rganet_reid.compat import torchreid_data

logger = logging.getLogger(__name__)

Item = tuple  # (img_path, pid, camid[, dsetid])


class DatasetLayoutError(FileNotFoundError):
    """A dataset tree on disk does not match the layout its class documents."""


def _with_dsetid(items: Sequence[Item]) -> list[Item]:
    return [tuple(it) if len(it) == 4 else (*it, 0) for it in items]


class ReIDImageDataset(torchreid_data.ImageDataset):
    """torchreid ``ImageDataset`` that also supports an empty training split.

    Subclasses set ``dataset_dir`` (absolute path of the dataset folder), build the three
    lists of ``(img_path, pid, camid)`` and call ``super().__init__(train, query, gallery,
    **kwargs)``.

    Class attributes a subclass may override:

    * ``layout`` – a human-readable description of the expected tree (used in errors).
    * ``eval_ranks`` – the CMC ranks the protocol reports (e.g. ``(1, 3)`` for partial ReID).
    * ``mask_subdir`` – folder (relative to ``dataset_dir``) of part-label masks shipped with
      the dataset, if any (SynthOcc ships them; real datasets take ``data.mask_root``).
    """

    layout: str = ""
    eval_ranks: tuple[int, ...] = (1, 5, 10, 20)
    mask_subdir: str | None = None
    dataset_dir: str = ""

    def __init__(
        self,
        train: Sequence[Item],
        query: Sequence[Item],
        gallery: Sequence[Item],
        transform=None,
        k_tfm: int = 1,
        mode: str = "train",
        combineall: bool = False,
        verbose: bool = True,
        **kwargs,
    ) -> None:
        # Same attributes as torchreid.data.Dataset.__init__, without its train[0] indexing.
        self.train = _with_dsetid(train)
        self.query = _with_dsetid(query)
        self.gallery = _with_dsetid(gallery)
        self.transform = transform
        self.k_tfm = k_tfm
        self.mode = mode
        self.combineall = combineall
        self.verbose = verbose
        self.num_train_pids = self.get_num_pids(self.train)
        self.num_train_cams = self.get_num_cams(self.train)
        self.num_datasets = self.get_num_datasets(self.train)
        if self.combineall:
            self.combine_all()
        if mode not in ("train", "query", "gallery"):
            raise ValueError(f"Invalid mode {mode!r}; expected one of train, query, gallery.")
        if mode == "train" and not self.train:
            raise ValueError(
                f"{type(self).__name__} has no training split (it is a test-only dataset); "
                "use it in data.targets, not in data.sources."
            )
        self.data = {"train": self.train, "query": self.query, "gallery": self.gallery}[mode]
        if mode != "train" and not self.query:
            raise ValueError(
                f"{type(self).__name__} at {self.dataset_dir}: the query set is empty; "
                "check the query folder of the tree described in the class docstring."
            )
        if self.verbose:
            self.show_summary()

    # -- checks -----------------------------------------------------------------------------
    def check_before_run(self, required_files: Sequence[str | os.PathLike]) -> None:
        """Raise :class:`DatasetLayoutError` naming every missing folder and the layout."""
        missing = [str(p) for p in required_files if not Path(p).exists()]
        if missing:
            lines = "\n  ".join(missing)
            hint = f"\nExpected layout:\n{self.layout}" if self.layout else ""
            raise DatasetLayoutError(
                f"{type(self).__name__}: missing under data.root:\n  {lines}{hint}"
            )

    # -- reporting --------------------------------------------------------------------------
    def statistics(self) -> list[tuple[str, int, int, int]]:
        """Rows ``(split, #ids, #images, #cameras)`` for train, query and gallery."""
        rows = []
        for split, items in (("train", self.train), ("query", self.query),
                             ("gallery", self.gallery)):
            rows.append((split, self.get_num_pids(items) if items else 0, len(items),
                         self.get_num_cams(items) if items else 0))
        return rows

    def summary_table(self) -> str:
        return tabulate(self.statistics(), headers=["subset", "# ids", "# images", "# cameras"],
                        tablefmt="simple")

    def show_summary(self) -> None:
        logger.info("=> Loaded %s from %s\n%s", type(self).__name__, self.dataset_dir,
                    self.summary_table())
