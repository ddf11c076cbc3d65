"""Hoplon: an open simulator and analysis toolkit for integrated air and missile defence."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hoplon")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
