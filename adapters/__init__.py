"""Platform adapters: one class per platform behind one interface (see adapters.base).

Importing this package never imports a platform SDK; only the adapter modules do.
"""

from adapters.capabilities import CAPABILITIES, Capabilities, LengthRule, Platform

__all__ = ["CAPABILITIES", "Capabilities", "LengthRule", "Platform"]
