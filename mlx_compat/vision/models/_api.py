"""The model registry (get_model, list_models, ...) and the weights enums' base classes (Weights, WeightsEnum).

Note [no weight downloads]: mlx_compat never reaches the network.  The weights enums carry torchvision's names,
URLs and metadata so code that names them keeps working, but asking a builder for weights (or calling
``get_state_dict``) raises a RuntimeError that names the file to fetch and how to load it locally.
"""
import fnmatch
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from inspect import signature
from typing import Any, Callable, Dict, get_args

__all__ = ["Weights", "WeightsEnum", "get_model", "get_model_builder", "get_model_weights", "get_weight", "list_models"]


@dataclass
class Weights:
    """One set of published weights: where torchvision downloads them from, their preprocessing and metadata."""

    url: str
    transforms: Callable
    meta: Dict[str, Any] = field(default_factory=dict)

    def __eq__(self, other):
        if not isinstance(other, Weights):
            return NotImplemented
        if self.url != other.url or self.meta != other.meta:
            return False
        t1, t2 = self.transforms, other.transforms
        if isinstance(t1, partial) and isinstance(t2, partial):
            return t1.func == t2.func and t1.args == t2.args and t1.keywords == t2.keywords
        return t1 == t2

    def __hash__(self):
        return hash(self.url)


class WeightsEnum(Enum):
    """Base of the per-model weights enums (``ResNet18_Weights`` ...); members' values are :class:`Weights`."""

    @classmethod
    def verify(cls, obj):
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(
                    f"Invalid Weight class provided; expected {cls.__name__} but received {obj.__class__.__name__}."
                )
        return obj

    def get_state_dict(self, *args, **kwargs):
        # Note [no weight downloads]
        raise RuntimeError(_no_download_message(self))

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def _no_download_message(weights):
    file = weights.url.rsplit("/", 1)[-1]
    return (
        f"mlx_compat does not download pretrained weights ({weights!r}): nothing is fetched at run time. "
        f"Download the checkpoint yourself ({weights.url}), then build the model without weights and load the "
        f"local file: model = <builder>(weights=None); "
        f"model.load_state_dict(mlx_compat.load('{file}', weights_only=True))"
    )


def _load_weights(weights):
    """Called by a builder given ``weights``; always raises (Note [no weight downloads])."""
    raise RuntimeError(_no_download_message(weights))


def _handle_pretrained(kwargs, default_weights):
    """Maps torchvision's legacy ``pretrained=`` keyword onto ``weights=``."""
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        if kwargs.get("weights") is not None and pretrained:
            raise ValueError("pass either pretrained=True or weights=..., not both")
        if pretrained:
            kwargs["weights"] = default_weights
    return kwargs


def _ovewrite_named_param(kwargs, param, new_value):
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


BUILTIN_MODELS: Dict[str, Callable] = {}


def register_model(name=None):
    """Decorator adding a builder to the registry under ``name`` (the function's name by default)."""

    def wrapper(fn):
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn

    return wrapper


def list_models(module=None, include=None, exclude=None):
    """Sorted names of the registered builders, optionally of one module and filtered by fnmatch patterns."""
    all_models = {
        k for k, v in BUILTIN_MODELS.items() if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__
    }
    if include:
        models = set()
        for pattern in [include] if isinstance(include, str) else include:
            models |= set(fnmatch.filter(all_models, pattern))
    else:
        models = all_models
    if exclude:
        for pattern in [exclude] if isinstance(exclude, str) else exclude:
            models -= set(fnmatch.filter(all_models, pattern))
    return sorted(models)


def get_model_builder(name):
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name, **config):
    """Builds the registered model ``name`` with the builder's keyword arguments."""
    return get_model_builder(name)(**config)


def get_model_weights(name):
    """The weights enum class of a builder (or of a registered name)."""
    model = get_model_builder(name) if isinstance(name, str) else name
    ann = signature(model).parameters["weights"].annotation
    for arg in get_args(ann) or (ann,):
        if isinstance(arg, type) and issubclass(arg, WeightsEnum):
            return arg
    raise ValueError(f"The weights enum of {getattr(model, '__name__', model)} could not be found.")


def get_weight(name):
    """The weights enum member named like "ResNet50_Weights.IMAGENET1K_V1"."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    from . import _weights

    enum_cls = getattr(_weights, enum_name, None)
    if enum_cls is None:
        raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")
    return enum_cls[value_name]
