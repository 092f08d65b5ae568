"""Only what pyproject.toml cannot say: the shipped profiles and the result
schema keep their source of truth at the top of the repository (profiles/,
results/), and travel inside the harness package, so that an installed wheel
finds them with importlib.resources (harness.profiles.shipped,
harness.report.schema) and a checkout's editable install sees the same files."""

from setuptools import find_packages, setup

DATA = {
    "harness.profiles.shipped": ("profiles", ["*.toml", "README.md"]),
    "harness.report.schema": ("results", ["schema.json"]),
}

setup(
    packages=find_packages(include=["harness*", "generators*", "sinks*"]) + list(DATA),
    package_dir={package: folder for package, (folder, _) in DATA.items()},
    # Beside the folders above, a package's assets/ folder (scripts and styles
    # the HTML report inlines, say) and its XML files ship as they are.
    package_data={"": ["assets/*", "*.xml"], **{package: patterns for package, (_, patterns) in DATA.items()}},
)
