"""Trusted probes run in the child on a student's nn.Module: settings, call order, forward, training.

They turn modules into data (shapes, settings, weights, outputs); the parent decides what it means.
"""

from __future__ import annotations

import types

import torch
import torch.nn as nn
import torch.nn.functional as F

from .student import namespace
from .trainer import Trainer

PROBES: dict = {}
SETTINGS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
            "num_features", "eps", "momentum", "affine", "track_running_stats", "in_features", "out_features",
            "p", "output_size", "ceil_mode", "count_include_pad", "start_dim", "end_dim")


def probe(fn):
    PROBES[fn.__name__] = fn
    return fn


def kind_of(module: nn.Module) -> str:
    """The torch.nn class a module is (a student's subclass of Conv2d is a Conv2d)."""
    for cls in type(module).__mro__:
        if cls.__module__.startswith("torch.nn") and cls is not nn.Module:
            return cls.__name__
    return type(module).__name__


def settings_of(module: nn.Module) -> dict:
    """A layer's settings (kernel_size, in_features, ...) as plain values."""
    settings = {}
    for name in SETTINGS:
        value = getattr(module, name, None)
        if isinstance(value, (bool, int, float, str)) or (isinstance(value, tuple) and all(
                isinstance(v, (int, float)) for v in value)):
            settings[name] = value
    if isinstance(module, nn.modules.conv._ConvNd):
        settings["bias"] = module.bias is not None
    return settings


def describe(path: str, module: nn.Module) -> dict:
    """One module as data: its kind, its settings and its own weights and buffers."""
    tensors = {name: t for name, t in list(module.named_parameters(recurse=False)) +
               list(module.named_buffers(recurse=False)) if t is not None and t.is_floating_point()}
    return {"path": path, "kind": kind_of(module), "settings": settings_of(module), "tensors": tensors}


def hidden_modules(module: nn.Module) -> list[tuple[str, str, nn.Module]]:
    """Modules kept in a plain list, tuple or dict attribute: nn.Module never registers them, so parameters(),
    .to(device) and state_dict() miss them. (attribute path, "list"/"tuple"/"dict", module) triples."""
    found = []
    for path, m in module.named_modules():
        for name, value in vars(m).items():
            if name.startswith("_") or not isinstance(value, (list, tuple, dict)):
                continue
            items = value.values() if isinstance(value, dict) else value
            found += [(f"{path}.{name}" if path else name, type(value).__name__, item)
                      for item in items if isinstance(item, nn.Module)]
    return found


@probe
def seed(value: int) -> None:
    """Seed torch's generator, so a model built next starts from the same weights every run."""
    torch.manual_seed(value)


@probe
def prepare(module: nn.Module, seed: int, device: str, randomize_bn: bool = True) -> int:
    """Move to the device; give each BatchNorm random affine weights and running statistics.

    Fresh BatchNorm layers are the identity in eval mode, which would hide every eval-mode bug.
    Returns the number of BatchNorm layers touched.
    """
    module.to(device)
    for _, _, hidden in hidden_modules(module):  # a plain list of layers: judged by the checks that look for it
        hidden.to(device)  # (three_blocks, device_agnostic), so on a GPU it does not crash every other check
    gen = torch.Generator().manual_seed(seed)
    count = 0
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and randomize_bn:
                count += 1
                n = m.num_features
                if m.affine:
                    m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                    m.bias.copy_(torch.randn(n, generator=gen) * 0.5)
                if m.track_running_stats:
                    m.running_mean.copy_(torch.randn(n, generator=gen) * 0.5)
                    m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
    return count


@probe
def inspect(module: nn.Module, x: torch.Tensor) -> dict:
    """One eval-mode forward with hooks: the leaf modules in the order they ran, with shapes and weights."""
    calls, hooks = [], []
    for path, m in module.named_modules():
        if next(m.children(), None) is None:  # leaves only: containers just pass data along
            def hook(mod, inputs, output, path=path):
                first = inputs[0] if inputs and torch.is_tensor(inputs[0]) else None
                calls.append((path, mod, None if first is None else tuple(first.shape),
                              tuple(output.shape) if torch.is_tensor(output) else None))
            hooks.append(m.register_forward_hook(hook))
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            module(x)
    finally:
        for h in hooks:
            h.remove()
        module.train(was_training)
    ran = [dict(describe(path, m), in_shape=i, out_shape=o) for path, m, i, o in calls]
    registered = [[path, kind_of(m)] for path, m in module.named_modules() if path]
    return {"calls": ran, "modules": registered}


@probe
def forward(module: nn.Module, x: torch.Tensor, train: bool = False):
    """The module's output for x, in train or eval mode, without gradients."""
    module.train(train)
    with torch.no_grad():
        return module(x)


@probe
def count_instances(module: nn.Module, class_name: str) -> int:
    """How many submodules are instances of the student's class `class_name`."""
    cls = namespace().get(class_name)
    if not isinstance(cls, type):
        raise NameError(f"your file defines no class {class_name!r}")
    return sum(isinstance(m, cls) for m in module.modules())


@probe
def set_tensor(module: nn.Module, path: str, name: str, value: float) -> None:
    """Fill one parameter or buffer of the submodule at `path` with a constant."""
    target = module.get_submodule(path)
    with torch.no_grad():
        getattr(target, name).fill_(value)


@probe
def input_gradient(module: nn.Module, x: torch.Tensor, train: bool = False) -> torch.Tensor:
    """d(sum of outputs)/dx: shows whether, and where, gradient reaches the input."""
    module.train(train)
    x = x.clone().requires_grad_(True)
    module(x).sum().backward()
    return x.grad if x.grad is not None else torch.zeros_like(x)


@probe
def trainer(module: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int, lr: float,
            seed: int) -> Trainer:
    """A Trainer for `module` on data the parent sent (stored in the child: the images travel once)."""
    return Trainer(module, images, labels, batch_size, lr, seed)


@probe
def train_steps(run: Trainer, count: int) -> list[float]:
    """`count` more steps of a stored Trainer; the loss of each."""
    return run.steps(count)


@probe
def pixels(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (N, 3, 32, 32) sent by the parent, as the float32 images in [0, 1] that load_shapes gives,
    scaled by the same NumPy code so they are bit-identical: a quarter of the bytes cross the pipe."""
    from ..data import to_float

    return torch.from_numpy(to_float(images.cpu().numpy())).to(images.device)


def state_digest(module: nn.Module) -> str:
    """SHA-256 of a model's leaf layer kinds and its parameters and buffers, in order (not their names): two
    models with equal digests start a training run from the same place."""
    import hashlib

    digest = hashlib.sha256()
    for m in module.modules():
        if next(m.children(), None) is None:
            digest.update(f"{kind_of(m)};".encode())
    for t in list(module.parameters()) + list(module.buffers()):
        if isinstance(t, nn.parameter.UninitializedParameter):
            return ""
        digest.update(f"{tuple(t.shape)}{t.dtype}{t.requires_grad};".encode())
        digest.update(t.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@probe
def digest(module: nn.Module) -> str:
    """state_digest of the module, for the parent to compare with a reference's."""
    return state_digest(module)


@probe
def block_maps(module: nn.Module, image: torch.Tensor, class_name: str, channels: int = 4) -> list:
    """One eval-mode forward of one image: the first `channels` channels of what each call of the student's
    class `class_name` returned (its feature maps, (C, H, W)), in the order the calls ran."""
    cls = namespace().get(class_name)
    maps: list = []

    def after(mod, inputs, output):
        if isinstance(cls, type) and isinstance(mod, cls) and torch.is_tensor(output) and output.dim() == 4:
            maps.append(output[0, :channels].detach().float().cpu().clone())

    hook = nn.modules.module.register_module_forward_hook(after)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            module(image)
    finally:
        hook.remove()
        module.train(was_training)
    return maps


@probe
def predict(module: nn.Module, images: torch.Tensor, batch_size: int = 400) -> torch.Tensor:
    """Eval-mode outputs for many images, in batches."""
    module.eval()
    with torch.no_grad():
        return torch.cat([module(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])


# --- what a mistake looks like from outside: crashes traced, layers never registered, blocks that resize -------
@probe
def layers(module: nn.Module) -> list:
    """Every registered leaf module (path, kind, settings), without running anything."""
    return [{"path": path, "kind": kind_of(m), "settings": settings_of(m)}
            for path, m in module.named_modules() if next(m.children(), None) is None]


@probe
def unregistered(module: nn.Module) -> list:
    """[attribute, what holds it, module kinds] for modules kept in plain lists, tuples or dicts."""
    found: dict = {}
    for attr, holder, item in hidden_modules(module):
        found.setdefault((attr, holder), []).append(type(item).__name__)
    return [[attr, holder, kinds] for (attr, holder), kinds in found.items()]


def _shape(value):
    return tuple(value.shape) if torch.is_tensor(value) else None


@probe
def trace(module: nn.Module, x: torch.Tensor, class_name: str | None = None) -> dict:
    """One eval-mode forward that may fail: every leaf layer entered, in order, with its input shape and
    settings; the input and output shapes of each call of the student's class `class_name` (registered or
    not); and the error, if one ended the forward. The last layer entered is the one that raised."""
    cls = namespace().get(class_name) if class_name else None
    paths = {id(m): p for p, m in module.named_modules()}
    entered, blocks = [], []

    def before(mod, inputs):
        if next(mod.children(), None) is None:
            first = inputs[0] if inputs else None
            entered.append({"path": paths.get(id(mod), "?"), "kind": kind_of(mod), "settings": settings_of(mod),
                            "in_shape": _shape(first)})

    def after(mod, inputs, output):
        if isinstance(cls, type) and isinstance(mod, cls):
            blocks.append({"in_shape": _shape(inputs[0] if inputs else None), "out_shape": _shape(output)})

    hooks = [nn.modules.module.register_module_forward_pre_hook(before),
             nn.modules.module.register_module_forward_hook(after)]
    was_training, raised = module.training, None
    module.eval()
    try:
        with torch.no_grad():
            module(x)
    except Exception as e:  # noqa: BLE001 - what failed, and where, is the data this probe is for
        raised = {"type": type(e).__name__, "message": str(e)[:500]}
    finally:
        for h in hooks:
            h.remove()
        module.train(was_training)
    return {"entered": entered, "blocks": blocks, "raised": raised}


def _standard_forward(conv: nn.Conv2d, bn: nn.Module | None):
    """Conv2d with 'same' padding -> BatchNorm -> ReLU -> MaxPool2d(2), from a block's own layers."""
    def forward(self, x):
        y = F.conv2d(x, conv.weight, conv.bias, conv.stride, (conv.kernel_size[0] // 2, conv.kernel_size[1] // 2))
        return F.max_pool2d(F.relu(bn(y) if bn is not None else y), 2)

    return forward


@probe
def standin_blocks(module: nn.Module, class_name: str, side: int = 13) -> list:
    """Give every instance of the student's block class that does not halve a map (side -> side // 2) a standard
    forward built from its own convolution and BatchNorm, so the rest of the model can be judged on its own.
    Returns the paths of the blocks stood in for."""
    cls = namespace().get(class_name)
    replaced = []
    for path, block in module.named_modules() if isinstance(cls, type) else ():
        if not isinstance(block, cls):
            continue
        convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
        bns = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
        if len(convs) != 1 or len(bns) > 1:
            continue
        weight = convs[0].weight
        was_training = block.training
        block.eval()
        try:
            with torch.no_grad():
                out = block(torch.zeros(1, convs[0].in_channels, side, side, device=weight.device, dtype=weight.dtype))
            halves = _shape(out) is not None and _shape(out)[-2:] == (side // 2, side // 2)
        except Exception:  # noqa: BLE001 - a block that fails on a small map resizes it wrongly
            halves = False
        finally:
            block.train(was_training)
        if not halves:
            object.__setattr__(block, "forward", types.MethodType(_standard_forward(convs[0], bns[0] if bns else None),
                                                                  block))
            replaced.append(path)
    return replaced


@probe
def elsewhere(module: nn.Module, x: torch.Tensor) -> dict:
    """Run once where the model is, then move it to PyTorch's meta device (a stand-in for a GPU on any machine)
    and run again: the modules whose tensors stayed behind, the layers forward ran that the model does not hold
    (made in forward), and where the output went (or what was raised)."""
    module.eval()
    with torch.no_grad():
        module(x)  # a lazy layer gets its parameters here, where the model was built
    module.to("meta")
    behind = sorted({attr for attr, _, item in hidden_modules(module)
                     if any(t.device.type != "meta" for t in list(item.parameters()) + list(item.buffers()))})
    held, strangers = {id(m) for m in module.modules()} | {id(m) for _, _, h in hidden_modules(module)
                                                           for m in h.modules()}, []
    hook = nn.modules.module.register_module_forward_pre_hook(
        lambda mod, _: strangers.append(kind_of(mod)) if id(mod) not in held else None)
    try:
        with torch.no_grad():
            out = module(torch.zeros(x.shape, dtype=x.dtype, device="meta"))
        device, raised = (str(out.device) if torch.is_tensor(out) else None), None
    except Exception as e:  # noqa: BLE001 - a tensor left on the CPU meets the moved ones here
        device, raised = None, f"{type(e).__name__}: {e}"[:300]
    finally:
        hook.remove()
    return {"behind": behind, "strangers": strangers, "device": device, "raised": raised}


from . import transfer_probes  # noqa: E402,F401 - exercise 5's probes register themselves in PROBES
