"""Build script for the C kernels (setuptools compiles them with the system compiler)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "topgun_native._hash",
            sources=["src/topgun_native/_hash.c"],
            extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wextra"],
        )
    ],
)
