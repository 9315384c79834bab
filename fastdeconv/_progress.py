"""A small dependency-free progress bar for long iterative work (``progress=True``)."""
import sys
import time


class Progress:
    """Text progress bar on stderr: ``label [#####.....] 12/50 0.8 s``.

    Redraws at most ten times a second; ``close()`` ends the line.
    """

    def __init__(self, total, label, stream=None, width=30):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.start = time.perf_counter()
        self._last = 0.0
        self.done = 0
        self._draw(0)

    def _draw(self, done):
        filled = int(self.width * done / self.total)
        elapsed = time.perf_counter() - self.start
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total} {elapsed:.1f} s")
        self.stream.flush()

    def update(self, done):
        self.done = done
        now = time.perf_counter()
        if now - self._last >= 0.1 or done >= self.total:
            self._last = now
            self._draw(done)

    def close(self):
        self._draw(self.done)
        self.stream.write("\n")
        self.stream.flush()
