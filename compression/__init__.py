"""compression: what is stored — prune → share → encode (DESIGN §3), the `.dcz` container and
storage accounting. Imports `workloads` only. Torch mechanisms live in
`compression.retraining` (imported on demand, not here)."""

from compression.accounting import LayerAccounting, NetworkAccounting
from compression.compressed_layer import CompressedLayer, compress_layer, layer_from_codes
from compression.compressed_network import CompressedNetwork, compress_network
from compression.container import ContainerError, load_container, save_container
from compression.recipe import Recipe, load_recipe
from compression.sorted_weights import SortedWeights
from compression.sparse_format import SparseMatrix, decode_sparse, encode_sparse

__all__ = [
    "CompressedLayer",
    "CompressedNetwork",
    "ContainerError",
    "LayerAccounting",
    "NetworkAccounting",
    "Recipe",
    "SortedWeights",
    "SparseMatrix",
    "compress_layer",
    "compress_network",
    "decode_sparse",
    "encode_sparse",
    "layer_from_codes",
    "load_container",
    "load_recipe",
    "save_container",
]
