"""Lazy imports: ``import fastdeconv`` stays fast (scipy.fft alone costs ~0.3 s)."""
import importlib


class LazyModule:
    """Stands for a module and imports it on first attribute access."""

    def __init__(self, name):
        self._name = name
        self._module = None

    def __getattr__(self, attr):
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)


sfft = LazyModule("scipy.fft")
