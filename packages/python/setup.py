"""Only the wheel's tag lives here; everything else is in pyproject.toml.

The wheel carries a native bebr.so, so it is not pure: its tag is py3-none-<platform>. py3 and
none because the .so never touches Python's C API (sqlite3 loads it), so one wheel serves every
Python 3. The platform comes from BEBR_WHEEL_PLATFORM, which scripts/test-packages.sh derives
from what the .so needs (see docs/install.md); without it, linux_<machine>, a tag that claims
nothing beyond the build machine.
"""
import os
import platform

from setuptools import Distribution, setup
from wheel.bdist_wheel import bdist_wheel


class NativeDistribution(Distribution):
    # Says "has native code", so the wheel is not pure and its files sit at the root
    # (platlib), not under .data/purelib.
    def has_ext_modules(self):
        return True


class NativeWheel(bdist_wheel):
    def get_tag(self):
        plat = os.environ.get("BEBR_WHEEL_PLATFORM") or "linux_" + platform.machine()
        return "py3", "none", plat


setup(distclass=NativeDistribution, cmdclass={"bdist_wheel": NativeWheel})
