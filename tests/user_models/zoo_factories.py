"""Factories for the end-to-end tests: the zoo's ResNet-18 and MobileNetV2 as user modules
(`tests/user_models/zoo_factories.py:resnet18`), seeded, at a small input (`input_shape`)."""

import torch

from workloads.zoo import zoo_module

INPUT_SHAPE = (3, 32, 32)


def _seeded(name: str):
    torch.manual_seed(0)
    module = zoo_module(name, num_classes=10).eval()
    module.input_shape = INPUT_SHAPE
    return module


def resnet18():
    return _seeded("resnet18")


def mobilenet_v2():
    return _seeded("mobilenet-v2")
