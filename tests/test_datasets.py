"""Digits split determinism and normalisation; the image-folder loader on generated files."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from workloads.datasets import (
    ImageFolderDataset,
    image_folder_loader,
    load_digits_split,
    normalisation_statistics,
)


def test_digits_split_is_deterministic_and_disjoint():
    a = load_digits_split(resolution=16, seed=3)
    b = load_digits_split(resolution=16, seed=3)
    c = load_digits_split(resolution=16, seed=4)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.y_test, c.y_test)
    assert a.x_train.shape[1:] == (3, 16, 16) and a.x_train.dtype == torch.float32
    assert len(a.y_train) + len(a.y_test) == 1797
    # stratified: every class in both splits, in proportion
    counts = torch.bincount(a.y_test, minlength=10).float() / len(a.y_test)
    assert torch.all((counts - 0.1).abs() < 0.02)
    # disjoint: no test image equals a train image of the same split (digits has no duplicates
    # within a class at 8x8 that would matter here) -> compare by row hashes
    train = {bytes(x.numpy().tobytes()) for x in a.x_train}
    assert not any(bytes(x.numpy().tobytes()) in train for x in a.x_test)


def test_digits_split_does_not_depend_on_the_torch_thread_count():
    """The README's digits claim did not reproduce because the split itself changed with
    torch's intra-op thread count: a float32 torch mean over the train images sums in an order
    that depends on it (1 thread vs 2+ gave means one ulp apart), which moved every pixel and
    so every trained weight. The split must be bit-identical under any thread setting."""
    previous = torch.get_num_threads()
    try:
        splits = {}
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            splits[threads] = load_digits_split(resolution=64, seed=0)
    finally:
        torch.set_num_threads(previous)
    reference = splits[1]
    for threads, split in splits.items():
        assert torch.equal(split.x_train, reference.x_train), threads
        assert torch.equal(split.x_test, reference.x_test), threads
    assert len({split.digest for split in splits.values()}) == 1


def test_normalisation_statistics_are_the_float64_values():
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.random((7, 3, 5, 5), dtype=np.float32))
    mean, std = normalisation_statistics(images)
    values = [float(v) for v in images.numpy().ravel()]
    exact_mean = math.fsum(values) / len(values)
    exact_std = math.sqrt(math.fsum((v - exact_mean) ** 2 for v in values) / (len(values) - 1))
    assert mean == np.float32(exact_mean) and std == np.float32(exact_std)
    assert mean.dtype == np.float32 and std.dtype == np.float32


def test_digits_normalised_with_train_statistics():
    split = load_digits_split(resolution=8, seed=0)
    assert abs(float(split.x_train.mean())) < 1e-5
    assert abs(float(split.x_train.std()) - 1.0) < 1e-5
    assert torch.equal(split.x_train[:, 0], split.x_train[:, 2])  # grey repeated over RGB


@pytest.mark.parametrize("resolution", [4, 1000])
def test_digits_resolution_is_validated(resolution):
    with pytest.raises(ValueError, match="resolution"):
        load_digits_split(resolution=resolution)


def _write_folder(root, classes=("n01", "n02"), per_class=2):
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (40 + 7 * i, 50, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")


def test_image_folder_loader(tmp_path):
    _write_folder(tmp_path)
    dataset = ImageFolderDataset(tmp_path, resize=36, crop=32)
    assert dataset.classes == ["n01", "n02"] and len(dataset) == 4
    x, label = dataset[3]
    assert x.shape == (3, 32, 32) and label == 1
    batches = list(image_folder_loader(tmp_path, batch_size=3, resize=36, crop=32))
    assert [b[0].shape[0] for b in batches] == [3, 1]
    assert batches[0][1].tolist() == [0, 0, 1]


def test_image_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="data folder '.*absent' does not exist"):
        ImageFolderDataset(tmp_path / "absent")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="file.txt' is a file, not a folder"):
        ImageFolderDataset(tmp_path / "file.txt")
    (tmp_path / "file.txt").unlink()
    with pytest.raises(ValueError, match="no class sub-folders"):
        ImageFolderDataset(tmp_path)
    _write_folder(tmp_path)
    (tmp_path / "n03").mkdir()
    with pytest.raises(ValueError, match="n03.*holds no images"):
        ImageFolderDataset(tmp_path)


def test_damaged_image_is_a_clear_error(tmp_path):
    _write_folder(tmp_path, classes=("a",), per_class=1)
    (tmp_path / "a" / "bad.png").write_bytes(b"\x89PNG broken")
    dataset = ImageFolderDataset(tmp_path, resize=36, crop=32)
    with pytest.raises(ValueError, match="bad.png"):
        dataset[1]


def test_a_decompression_bomb_is_one_line_naming_the_file(tmp_path):
    """A PNG whose header claims 60000×60000 pixels: Pillow's DecompressionBombError becomes
    a ValueError naming the image, before any pixel is decoded."""
    import struct
    import zlib

    _write_folder(tmp_path, classes=("a",), per_class=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )
    (tmp_path / "a" / "bomb.png").write_bytes(png)
    dataset = ImageFolderDataset(tmp_path, resize=36, crop=32)
    index = [p.name for p, _ in dataset.samples].index("bomb.png")
    with pytest.raises(ValueError) as info:
        dataset[index]
    message = str(info.value)
    assert "bomb.png' is too large to decode" in message and "\n" not in message


def test_image_folder_fingerprint_follows_the_files(tmp_path):
    """The folder's identity in retraining cache keys: the same files give the same
    fingerprint; a rewritten, an added or a renamed image gives another."""
    _write_folder(tmp_path)
    first = ImageFolderDataset(tmp_path).fingerprint()
    assert ImageFolderDataset(tmp_path).fingerprint() == first
    image = tmp_path / "n01" / "0.png"
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(image)
    rewritten = ImageFolderDataset(tmp_path).fingerprint()
    assert rewritten != first
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(tmp_path / "n02" / "9.png")
    added = ImageFolderDataset(tmp_path).fingerprint()
    assert added not in (first, rewritten)
    (tmp_path / "n02" / "9.png").rename(tmp_path / "n02" / "8.png")
    assert ImageFolderDataset(tmp_path).fingerprint() not in (first, rewritten, added)
