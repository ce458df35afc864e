"""Datasets: scikit-learn's bundled digits (embedded default) and a user's ImageNet-style folder.

Part of `workloads` (DESIGN §2). Nothing is downloaded: the digits ship inside scikit-learn,
and the ImageNet path reads only the user's own files.

Digits: 1,797 8×8 grey images of the digits 0–9. `load_digits_split` makes a stratified,
seeded train/test split, resizes each image bilinearly to `resolution`×`resolution`, repeats
it over 3 channels (the networks take RGB input) and normalises with the *training* split's
mean and standard deviation (so no test statistics leak into training), computed in float64
so that the split is bit-identical under any torch thread count (`normalisation_statistics`).
`DatasetSplit.digest` fingerprints the tensors for cache keys.

Image folder: `root/<class>/<image files>` as torchvision's ImageFolder; classes are the
sub-folder names in sorted order, which for an ImageNet validation folder named by WordNet id
gives the standard 1000-class index order. Images are resized (shorter side 256), centre-cropped
to 224 and normalised with the ImageNet mean and std, as torchvision's AlexNet expects.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

IMAGE_SUFFIXES: tuple[str, ...] = (
    ".jpg",
    ".jpeg",
    ".png",
    ".bmp",
    ".ppm",
    ".webp",
    ".tif",
    ".tiff",
)
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class DatasetSplit:
    """Train and test tensors: images (N, 3, H, W) float32, labels (N,) int64."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    resolution: int
    name: str

    @cached_property
    def digest(self) -> str:
        """sha256 of the split's tensors (shapes, dtypes and bytes): the identity of the data in
        cache keys, so a model trained or evaluated on other data is never reused."""
        digest = hashlib.sha256()
        for tensor in (self.x_train, self.y_train, self.x_test, self.y_test):
            array = tensor.contiguous().numpy()
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(memoryview(array).cast("B"))
        return digest.hexdigest()


def normalisation_statistics(images: torch.Tensor) -> tuple[np.float32, np.float32]:
    """Mean and (sample) standard deviation of all of `images`' values, as float32 scalars.

    Computed in float64 by numpy, never by a float32 torch reduction: torch splits a reduction
    over its intra-op threads, so its float32 sum depends on the thread count (the digits
    train split's mean is 0.30522469 with 1 thread and 0.30522472 with 2 or more), and that
    one-ulp shift moved every input pixel and so every trained weight. numpy's pairwise sum
    is single-threaded: the statistics, and the split, are the same under any thread setting."""
    values = images.numpy().astype(np.float64)
    return np.float32(values.mean()), np.float32(values.std(ddof=1))


def load_digits_split(
    resolution: int = 64, test_fraction: float = 0.25, seed: int = 0
) -> DatasetSplit:
    """The digits as a deterministic, stratified train/test split at `resolution` (3 channels)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not isinstance(resolution, int) or not (8 <= resolution <= 512):
        raise ValueError(f"resolution={resolution!r} is invalid; allowed: an integer in 8..512")
    if not (0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction={test_fraction!r} is invalid; allowed: (0, 1)")
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0  # (1797, 8, 8) in [0, 1]
    labels = digits.target.astype(np.int64)
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=test_fraction, random_state=seed, stratify=labels
    )

    def prepare(index: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(images[index]).unsqueeze(1)  # (N, 1, 8, 8)
        if resolution != 8:
            x = F.interpolate(
                x, size=(resolution, resolution), mode="bilinear", align_corners=False
            )
        return x.repeat(1, 3, 1, 1).contiguous()

    x_train, x_test = prepare(np.sort(train_idx)), prepare(np.sort(test_idx))
    mean, std = normalisation_statistics(x_train)

    def normalise(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy((x.numpy() - mean) / std)

    return DatasetSplit(
        x_train=normalise(x_train),
        y_train=torch.from_numpy(labels[np.sort(train_idx)]),
        x_test=normalise(x_test),
        y_test=torch.from_numpy(labels[np.sort(test_idx)]),
        num_classes=10,
        resolution=resolution,
        name="digits",
    )


class ImageFolderDataset(torch.utils.data.Dataset):
    """A user's ImageNet-style folder (`root/<class>/<images>`), decoded lazily with Pillow."""

    def __init__(self, root: str | Path, resize: int = 256, crop: int = 224):
        from workloads.user_files import input_folder

        root = input_folder(root, "data folder", "an ImageNet-style folder root/<class>/<images>")
        class_dirs = sorted(p for p in root.iterdir() if p.is_dir())
        if not class_dirs:
            raise ValueError(f"data={str(root)!r} has no class sub-folders; allowed: root/<class>/")
        self.root = root
        self.classes = [p.name for p in class_dirs]
        self.samples: list[tuple[Path, int]] = []
        for label, class_dir in enumerate(class_dirs):
            files = sorted(
                p for p in class_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not files:
                raise ValueError(
                    f"data class folder {str(class_dir)!r} holds no images; allowed suffixes: "
                    + " ".join(IMAGE_SUFFIXES)
                )
            self.samples += [(f, label) for f in files]
        self.resize, self.crop = resize, crop
        self.mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.samples)

    def fingerprint(self) -> str:
        """sha256 over every image's path (relative to the root), label, size and modification
        time: the folder's identity in cache keys, so retraining on a changed folder is not
        served from the cache (the bytes themselves are not read: ImageNet is 140 GB)."""
        digest = hashlib.sha256()
        root = Path(self.root)
        for path, label in self.samples:
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}\0{label}\0{stat.st_size}\0".encode())
            digest.update(f"{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def check_headers(self) -> None:
        """Read every image's header (not its pixels) and raise the one-line error that decoding
        would raise later: a file that is not an image, or one above Pillow's pixel limit (a
        decompression bomb). Run before long work so a bad file fails the command at once."""
        from PIL import Image, UnidentifiedImageError

        for path, _ in self.samples:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                    with Image.open(path) as image:
                        w, h = image.size
            except (UnidentifiedImageError, OSError) as error:
                message = " ".join(str(error).split())
                raise ValueError(f"image {str(path)!r} cannot be decoded ({message})") from None
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                w, h = Image.MAX_IMAGE_PIXELS + 1, 1
            if Image.MAX_IMAGE_PIXELS is not None and w * h > Image.MAX_IMAGE_PIXELS:
                raise ValueError(
                    f"image {str(path)!r} is too large to decode (a decompression bomb?); "
                    f"allowed: at most {Image.MAX_IMAGE_PIXELS:,} pixels"
                )

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image, UnidentifiedImageError

        path, label = self.samples[index]
        try:
            with warnings.catch_warnings():
                # Pillow warns above MAX_IMAGE_PIXELS and raises at twice that: refuse both.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(path)
            with image:
                image = image.convert("RGB")
                w, h = image.size
                scale = self.resize / min(w, h)
                image = image.resize(
                    (max(self.crop, round(w * scale)), max(self.crop, round(h * scale))),
                    Image.BILINEAR,
                )
                w, h = image.size
                left, top = (w - self.crop) // 2, (h - self.crop) // 2
                image = image.crop((left, top, left + self.crop, top + self.crop))
                array = np.asarray(image, dtype=np.float32) / 255.0
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValueError(
                f"image {str(path)!r} is too large to decode (a decompression bomb?); allowed: "
                f"at most {Image.MAX_IMAGE_PIXELS:,} pixels"
            ) from None
        except (UnidentifiedImageError, OSError) as error:
            message = " ".join(str(error).split())
            raise ValueError(f"image {str(path)!r} cannot be decoded ({message})") from None
        x = torch.from_numpy(array).permute(2, 0, 1)
        return (x - self.mean) / self.std, label


def image_folder_loader(
    root: str | Path, batch_size: int = 64, resize: int = 256, crop: int = 224
) -> torch.utils.data.DataLoader:
    """Batches (images, labels) of a user's ImageNet-style folder, in a fixed order."""
    dataset = ImageFolderDataset(root, resize=resize, crop=crop)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)
