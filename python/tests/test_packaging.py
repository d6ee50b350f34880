"""The package as users install it: one abi3 wheel for every CPython >= 3.9, built from the sdist."""

from importlib import metadata


def test_the_installed_wheel_is_abi3_for_cpython_3_9_and_later():
    dist = metadata.distribution("connector")
    wheel = next(f for f in dist.files if f.name == "WHEEL")
    tags = [line.split(": ", 1)[1] for line in wheel.read_text().splitlines() if line.startswith("Tag: ")]
    assert [t.rsplit("-", 1)[0] for t in tags] == ["cp39-abi3"]
    assert dist.metadata["Requires-Python"] == ">=3.9"


def test_the_native_module_is_built_for_the_stable_abi():
    import connector._native as native

    # A version-specific build would be named _native.cpython-311-x86_64-linux-gnu.so.
    assert native.__file__.endswith("_native.abi3.so"), native.__file__
