"""CycloneDX 1.6 JSON, written with cyclonedx-python-lib: one component per package in the final
image, with its purl and the layer that installed it (`layerscope:layer`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigError
from .analyse import PackageReport
from .model import Ecosystem, Package

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom

_PURL_TYPE = {
    Ecosystem.DPKG: "deb",
    Ecosystem.RPM: "rpm",
    Ecosystem.APK: "apk",
    Ecosystem.PYTHON: "pypi",
    Ecosystem.NPM: "npm",
}


def purl(p: Package) -> str:
    from packageurl import PackageURL  # noqa: PLC0415

    namespace: str | None = None
    name = p.name
    if p.ecosystem in (Ecosystem.DPKG, Ecosystem.RPM, Ecosystem.APK):
        namespace = p.distro or None
    if p.ecosystem is Ecosystem.NPM and name.startswith("@"):
        namespace, _, name = name.partition("/")
    quals = {"arch": p.arch} if p.arch else None
    return str(PackageURL(_PURL_TYPE[p.ecosystem], namespace, name, p.version or None, quals))


def build_bom(report: PackageReport, image_name: str) -> Bom:
    try:
        from cyclonedx.model import Property  # noqa: PLC0415
        from cyclonedx.model.bom import Bom  # noqa: PLC0415
        from cyclonedx.model.component import Component, ComponentType  # noqa: PLC0415
        from packageurl import PackageURL  # noqa: PLC0415
    except ImportError:
        raise ConfigError(
            "--sbom needs cyclonedx-python-lib: pip install 'layerscope[sbom]'"
        ) from None
    bom = Bom()
    root = Component(name=image_name, type=ComponentType.CONTAINER, bom_ref="image")
    bom.metadata.component = root
    components = []
    for i, u in enumerate(u for u in report.attribution.usages if u.present):
        p = u.package
        props = [
            Property(name="layerscope:layer", value=str(u.installed_in)),
            Property(name="layerscope:package-type", value=p.ecosystem.value),
            Property(name="layerscope:final-bytes", value=str(u.final_bytes)),
        ]
        reached = report.reached(u)
        if reached is not None:
            props.append(Property(name="layerscope:reached-estimate", value=str(reached).lower()))
        component = Component(
            name=p.name,
            version=p.version or None,
            type=ComponentType.LIBRARY,
            purl=PackageURL.from_string(purl(p)),
            bom_ref=f"pkg-{i}-{p.ecosystem.value}-{p.name}",
            properties=props,
        )
        bom.components.add(component)
        components.append(component)
    bom.register_dependency(root, components)  # the image contains every package
    return bom


def to_json_text(bom: Bom) -> str:
    from cyclonedx.output.json import JsonV1Dot6  # noqa: PLC0415

    return JsonV1Dot6(bom).output_as_string(indent=1)
