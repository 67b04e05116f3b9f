"""Gallery search: the evaluation's ranking, resumable and appendable indexing, clear errors."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from rganet_reid.data.image_io import ImageReadError
from rganet_reid.evaluation import evaluate_retrieval, region_weighted_distance
from rganet_reid.inference import FeatureExtractor, NoImagesError, identity_of, list_images
from rganet_reid.inference.gallery import GalleryError, SearchGallery, build_gallery


@pytest.fixture(scope="module")
def extractor(rganet_run):
    return FeatureExtractor(model_path=rganet_run.weights, device="cpu", verbose=False)


@pytest.fixture(scope="module")
def gallery_dir(rganet_run) -> Path:
    return Path(rganet_run.gallery_paths[0]).parent


@pytest.fixture(scope="module")
def built(extractor, gallery_dir, tmp_path_factory) -> SearchGallery:
    return build_gallery(extractor, [gallery_dir], tmp_path_factory.mktemp("g") / "gallery",
                         chunk_size=8, progress=False)


def _cmc_ap(matches, num_positives):
    """torchreid's CMC and AP of one ranked list (already without same-id-same-camera)."""
    hits = np.array([m.correct for m in matches], dtype=float)
    cmc = np.minimum(np.cumsum(hits), 1)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return cmc, float((precision * hits).sum() / num_positives)


def test_search_ranks_like_evaluate_retrieval(rganet_run, extractor, built):
    queries = [Path(p) for p in rganet_run.query_paths]
    identities = [identity_of(q) for q in queries]
    results = built.query(extractor(queries), identities, k=len(built), exclude_same_camera=True)
    expected = evaluate_retrieval(rganet_run.query, rganet_run.gallery, max_rank=len(built))
    cmcs, aps = [], []
    for (pid, cam), matches in zip(identities, results):
        positives = sum(1 for _, p, c in built.items if p == pid and c != cam)
        if positives:
            cmc, ap = _cmc_ap(matches, positives)
            cmcs.append(np.pad(cmc, (0, len(built) - len(cmc)), constant_values=cmc[-1]))
            aps.append(ap)
    assert len(aps) == expected.num_valid_queries
    assert np.array_equal(np.mean(cmcs, axis=0)[: len(expected.cmc)], expected.cmc)
    assert np.mean(aps) == pytest.approx(expected.mAP, abs=1e-6)
    # and item by item: the stable order of the Eq. 10 distances of the engine's features
    order = {p: i for i, p in enumerate(rganet_run.gallery_paths)}
    dist = region_weighted_distance(rganet_run.query, rganet_run.gallery)
    for qi, matches in enumerate(results):
        ranked = torch.sort(dist[qi], stable=True).indices.tolist()
        pid, cam = identities[qi]
        ranked = [g for g in ranked if not (rganet_run.gallery.pids[g] == pid and
                                            rganet_run.gallery.camids[g] == cam)]
        assert [order[m.path] for m in matches] == ranked
        assert [m.distance for m in matches] == pytest.approx(dist[qi, ranked].tolist(), abs=1e-6)


def test_top_k_and_identities(rganet_run, extractor, built):
    q = rganet_run.query_paths[0]
    [matches] = built.query(extractor(q), [identity_of(q)], k=5)
    assert [m.rank for m in matches] == [1, 2, 3, 4, 5]
    assert all(m.distance <= n.distance for m, n in zip(matches, matches[1:]))
    assert all(m.correct == (m.pid == identity_of(q)[0]) for m in matches)
    [unknown] = built.query(extractor(q), [None], k=3)
    assert all(m.correct is None for m in unknown)
    # every query's top-5 is the exact Eq. 10 top-5 (the default re-scores the whole gallery)
    order = {p: i for i, p in enumerate(rganet_run.gallery_paths)}
    dist = region_weighted_distance(rganet_run.query, rganet_run.gallery)
    top5 = built.query(extractor(rganet_run.query_paths), [None] * len(dist), k=5)
    for row, matches in zip(dist, top5):
        assert [order[m.path] for m in matches] == torch.sort(row, stable=True).indices[:5].tolist()


def _counting(extractor, monkeypatch, fail_on_call=None):
    calls = []
    original = FeatureExtractor.__call__

    def call(self, inputs):
        calls.append(len(inputs))
        if fail_on_call is not None and len(calls) == fail_on_call:
            raise KeyboardInterrupt("interrupted")
        return original(self, inputs)

    monkeypatch.setattr(FeatureExtractor, "__call__", call)
    return calls


def _arrays(gallery: SearchGallery) -> dict:
    return {k: np.asarray(v) for k, v in gallery.index.arrays.items()}


def test_an_interrupted_index_run_resumes_without_redoing_chunks(
        extractor, gallery_dir, built, tmp_path, monkeypatch):
    out = tmp_path / "gallery"
    calls = _counting(extractor, monkeypatch, fail_on_call=3)
    with pytest.raises(KeyboardInterrupt):
        build_gallery(extractor, [gallery_dir], out, chunk_size=8, progress=False)
    assert sorted(p.name for p in (out / "pending").glob("part-*.npz")) == [
        "part-00000.npz", "part-00001.npz"]
    assert not SearchGallery.exists(out)
    assert calls == [8, 8, 8]
    monkeypatch.undo()
    calls = _counting(extractor, monkeypatch)  # no more failures
    resumed = build_gallery(extractor, [gallery_dir], out, chunk_size=8, progress=False)
    assert sum(calls) == len(built) - 16  # the two saved chunks are not extracted again
    assert resumed.items == built.items
    for key, value in _arrays(built).items():
        assert np.array_equal(_arrays(resumed)[key], value), key
    assert not (out / "pending").exists()


def test_indexing_again_appends_only_new_images(extractor, gallery_dir, built, tmp_path,
                                                monkeypatch):
    folder = tmp_path / "crops"
    folder.mkdir()
    images = sorted(gallery_dir.glob("*.jpg"))
    for p in images[:20]:
        shutil.copy(p, folder / p.name)
    out = tmp_path / "gallery"
    first = build_gallery(extractor, [folder], out, chunk_size=8, progress=False)
    assert len(first) == 20
    (folder / "sub").mkdir()
    for p in images[20:]:
        shutil.copy(p, folder / "sub" / p.name)
    calls = _counting(extractor, monkeypatch)
    grown = build_gallery(extractor, [folder], out, chunk_size=8, progress=False)
    assert sum(calls) == len(images) - 20  # the first 20 were not extracted again
    assert len(grown) == len(images)
    old = _arrays(first)
    assert all(np.array_equal(_arrays(grown)[k][:20], v) for k, v in old.items())
    assert sorted(p.name for p in out.iterdir()) == ["gallery.json", "index-0002"]
    assert build_gallery(extractor, [folder], out, progress=False).items == grown.items
    q = images[0]
    assert [Path(m.path).name for m in grown.query(extractor([q]), [None], 10)[0]] == \
        [Path(m.path).name for m in built.query(extractor([q]), [None], 10)[0]]


def test_folder_errors_are_clear(extractor, tmp_path, caplog):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NoImagesError, match="empty holds no image.*it is empty"):
        build_gallery(extractor, [empty], tmp_path / "g1", progress=False)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.txt").write_text("hi")
    with pytest.raises(NoImagesError, match="1 other file.*readme.txt"):
        list_images(notes)
    with pytest.raises(NoImagesError, match="not found"):
        list_images(tmp_path / "nowhere")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    src = sorted((Path(__file__).parent).glob("*.py"))[0]
    shutil.copy(src, mixed / "0001_c1s1_000001_00.jpg")  # not an image, image suffix
    from PIL import Image

    Image.new("RGB", (16, 32), (200, 10, 10)).save(mixed / "0002_c2s1_000001_00.jpg")
    with pytest.raises(ImageReadError, match=re.escape(str(mixed / "0001_c1s1_000001_00.jpg"))):
        build_gallery(extractor, [mixed], tmp_path / "g2", progress=False)
    g = build_gallery(extractor, [mixed], tmp_path / "g3", progress=False, skip_unreadable=True)
    assert [Path(p).name for p, _, _ in g.items] == ["0002_c2s1_000001_00.jpg"]
    assert g.items[0][1:] == (2, 1)
    assert "Skipped" in caplog.text and "0001_c1s1_000001_00.jpg" in caplog.text


def test_another_model_is_refused(osnet_run, built, gallery_dir):
    other = FeatureExtractor(run_dir=osnet_run.run_dir, device="cpu", verbose=False)
    with pytest.raises(GalleryError, match="built by another model"):
        built.check_model(other)
    with pytest.raises(GalleryError, match="built by another model"):
        build_gallery(other, [gallery_dir], built.directory, progress=False)


def _copy(built: SearchGallery, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(built.directory, out)
    return out


@pytest.mark.parametrize("damage", ["manifest garbled", "manifest truncated", "npy truncated",
                                    "faiss bytes flipped", "index folder gone", "format"])
def test_a_corrupt_gallery_is_refused(built, tmp_path, damage):
    out = _copy(built, tmp_path)
    index_dir = out / built.manifest["index_dir"]
    manifest = out / "gallery.json"
    if damage == "manifest garbled":
        manifest.write_text("{not json")
    elif damage == "manifest truncated":
        manifest.write_text(json.dumps({"format": "rganet-reid-gallery", "format_version": 1}))
    elif damage == "npy truncated":
        data = (index_dir / "global.npy").read_bytes()
        (index_dir / "global.npy").write_bytes(data[: len(data) // 2])
    elif damage == "faiss bytes flipped":
        data = bytearray((index_dir / "faiss.index").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (index_dir / "faiss.index").write_bytes(bytes(data))
    elif damage == "index folder gone":
        shutil.rmtree(index_dir)
    else:
        manifest.write_text(manifest.read_text().replace('"format_version": 1',
                                                         '"format_version": 7'))
    with pytest.raises(GalleryError):
        SearchGallery.open(out)


def test_the_gallery_rebuilds_its_extractor(built, extractor, rganet_run):
    again = built.extractor(device="cpu", verbose=False)
    assert again.fingerprint == extractor.fingerprint
    q = rganet_run.query_paths[:2]
    assert torch.equal(again(q).region_weights, extractor(q).region_weights)
