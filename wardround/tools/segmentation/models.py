"""Learned segmentation: any MONAI network from a local bundle folder or a checkpoint plus network config.

A bundle folder follows MONAI's layout::

    bundle/
      configs/inference.json (or .yaml)   network_def, optional preprocessing / inferer / labels
      configs/metadata.json               optional; network_data_format.outputs.pred.channel_def names labels
      models/model.pt | models/model.ts   state dict (or {"model": state dict}) or TorchScript

Inference runs the bundle's preprocessing (dictionary transforms on key ``image``), sliding-window inference
(the bundle's ``inferer`` or a ``SlidingWindowInferer``), argmax/sigmoid, and MONAI's ``Invertd`` to bring
the prediction back to the input image's space. Nothing is downloaded: weights must be local.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wardround.tools.segmentation.base import MethodOutput
from wardround.tools.segmentation.errors import SegmentationError
from wardround.tools.segmentation.io import Volume, _reorient, import_monai

log = logging.getLogger(__name__)

DEFAULT_ROI = (96, 96, 96)


@dataclass
class LoadedModel:
    """A network ready for inference, with its pre-processing and label names."""

    network: Any
    preprocessing: Any | None
    inferer: Any
    names: dict[int, str] = field(default_factory=dict)
    source: str = ""


def _read_config(folder: Path) -> tuple[Any, dict]:
    from monai.bundle import ConfigParser

    configs = folder / "configs"
    candidates = [configs / n for n in ("inference.json", "inference.yaml", "inference.yml")]
    config_file = next((c for c in candidates if c.is_file()), None)
    if config_file is None:
        raise SegmentationError(
            f"{folder}: no configs/inference.json or .yaml; pass a MONAI bundle folder (or --checkpoint with a network)"
        )
    parser = ConfigParser()
    try:
        parser.read_config(str(config_file))
    except Exception as exc:
        raise SegmentationError(f"{config_file}: unreadable bundle config ({exc}); fix the JSON/YAML") from exc
    meta: dict = {}
    meta_file = configs / "metadata.json"
    if meta_file.is_file():
        try:
            meta = json.loads(meta_file.read_text())
        except json.JSONDecodeError as exc:
            raise SegmentationError(f"{meta_file}: invalid JSON ({exc}); fix the bundle metadata") from exc
    return parser, meta


def _names_from(parser: Any, meta: dict) -> dict[int, str]:
    try:
        channel_def = meta["network_data_format"]["outputs"]["pred"]["channel_def"]
        return {int(k): str(v) for k, v in channel_def.items() if int(k) != 0}
    except (KeyError, TypeError, ValueError):
        pass
    if "labels" in parser:
        labels = parser.get_parsed_content("labels")
        if isinstance(labels, dict):
            return {int(k): str(v) for k, v in labels.items() if int(k) != 0}
    return {}


def _load_weights(network: Any, path: Path) -> Any:
    import torch

    if path.suffix == ".ts":
        try:
            return torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:
            raise SegmentationError(f"{path}: not a TorchScript model ({exc}); re-export the bundle") from exc
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise SegmentationError(f"{path}: checkpoint could not be read ({exc}); pass a state-dict .pt file") from exc
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if network is None:
        raise SegmentationError(f"{path}: a state dict needs a network definition (network_def / --network)")
    try:
        network.load_state_dict(state)
    except Exception as exc:
        raise SegmentationError(
            f"{path}: weights do not fit the network ({str(exc).splitlines()[0]}); check network_def"
        ) from exc
    return network


def load_model(bundle: str | Path | None = None, checkpoint: str | Path | None = None,
               network: dict[str, Any] | None = None, roi_size: tuple[int, int, int] | None = None) -> LoadedModel:
    """Load a network from a MONAI bundle folder, or from a checkpoint plus a network config dict.

    Args:
        bundle: MONAI bundle folder (``configs/inference.json``, ``models/model.pt``).
        checkpoint: a ``.pt`` state dict or ``.ts`` TorchScript file (without a bundle).
        network: MONAI config of the network for ``checkpoint``, e.g.
            ``{"_target_": "monai.networks.nets.UNet", "spatial_dims": 3, ...}``.
        roi_size: sliding-window size when the bundle does not define an inferer.
    """
    import_monai()
    from monai.bundle import ConfigParser
    from monai.inferers import SlidingWindowInferer

    preprocessing = inferer = None
    names: dict[int, str] = {}
    net = None
    if bundle is not None:
        folder = Path(bundle).expanduser()
        if not folder.is_dir():
            raise SegmentationError(f"{folder}: bundle folder not found; pass the folder holding configs/ and models/")
        parser, meta = _read_config(folder)
        parser["bundle_root"] = str(folder)
        if "network_def" in parser:
            net = parser.get_parsed_content("network_def")
        if "preprocessing" in parser:
            preprocessing = parser.get_parsed_content("preprocessing")
        if "inferer" in parser:
            inferer = parser.get_parsed_content("inferer")
        names = _names_from(parser, meta)
        if checkpoint is None:
            models = folder / "models"
            found = [models / n for n in ("model.pt", "model.ts") if (models / n).is_file()]
            if not found:
                raise SegmentationError(f"{folder}: no models/model.pt or models/model.ts; copy the weights there")
            checkpoint = found[0] if net is not None or found[0].suffix == ".ts" else found[-1]
        source = str(folder)
    else:
        if checkpoint is None:
            raise SegmentationError("a learned model needs --bundle DIR, or --checkpoint FILE with a network config")
        if network is not None:
            net = ConfigParser({"network_def": network}).get_parsed_content("network_def")
        source = str(checkpoint)
    ckpt = Path(checkpoint).expanduser()
    if not ckpt.is_file():
        raise SegmentationError(f"{ckpt}: checkpoint not found; pass an existing .pt or .ts file")
    model = _load_weights(net if ckpt.suffix != ".ts" else None, ckpt)
    model.eval()
    if inferer is None:
        inferer = SlidingWindowInferer(roi_size=roi_size or DEFAULT_ROI, sw_batch_size=1, overlap=0.25, mode="gaussian")
    return LoadedModel(network=model, preprocessing=preprocessing, inferer=inferer, names=names, source=source)


def _first_is_loader(preprocessing: Any) -> bool:
    transforms = getattr(preprocessing, "transforms", None) or []
    return bool(transforms) and type(transforms[0]).__name__ in ("LoadImaged", "LoadImage")


def run_model(volume: Volume, model: LoadedModel) -> MethodOutput:
    """Sliding-window inference on ``volume``; the label map comes back in the volume's RAS+ grid."""
    import torch
    from monai.data import MetaTensor
    from monai.transforms import Invertd

    stored = volume.to_stored(volume.array)
    if model.preprocessing is not None and _first_is_loader(model.preprocessing):
        data = {"image": volume.source}
    else:
        data = {"image": MetaTensor(torch.from_numpy(stored[None].copy()), affine=torch.as_tensor(volume.original_affine))}
    if model.preprocessing is not None:
        try:
            data = model.preprocessing(data)
        except Exception as exc:
            raise SegmentationError(f"{volume.source}: the bundle's preprocessing failed ({exc})") from exc
    image = data["image"]
    if not isinstance(image, torch.Tensor):
        image = torch.as_tensor(np.asarray(image))
    with torch.no_grad():
        logits = model.inferer(image[None].float(), model.network)
    logits = logits[0]
    if logits.shape[0] == 1:
        pred = (torch.sigmoid(logits) > 0.5).to(torch.uint8)
    else:
        pred = torch.argmax(logits, dim=0, keepdim=True).to(torch.uint8)
    if model.preprocessing is not None and isinstance(image, MetaTensor):
        pred = MetaTensor(pred, meta=dict(image.meta), applied_operations=list(image.applied_operations))
        data["pred"] = pred
        data = Invertd(keys="pred", transform=model.preprocessing, orig_keys="image", nearest_interp=True)(data)
        pred = data["pred"]
    labels = np.asarray(pred)[0].astype(np.uint8)
    if tuple(labels.shape) != tuple(volume.original_shape):
        raise SegmentationError(
            f"{volume.source}: the model output {labels.shape} did not invert to the image shape "
            f"{volume.original_shape}; the bundle's preprocessing must be invertible"
        )
    ras = _reorient(labels, volume.original_affine, volume.affine)
    present = sorted(int(v) for v in np.unique(ras) if v)
    names = dict(model.names) or {v: f"label_{v}" for v in present}
    return MethodOutput(labels=ras, names=names, main_label=None,
                        params={"model": model.source, "inferer": type(model.inferer).__name__})
