"""The Tiltfile, run with recording stand-ins for Tilt's builtins (its Starlark is also
Python): it builds the three images, applies only the dev overlay, syncs real source into
the images' site-packages, forwards the local ports, and names only resources that exist."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}

Manifest = dict[str, Any]


@dataclass
class Recorded:
    builds: list[dict[str, Any]] = field(default_factory=list)
    yaml: list[Any] = field(default_factory=list)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def tilt(repo: Path) -> Recorded:
    recorded = Recorded()

    def docker_build(ref: str, context: str, **kw: Any) -> None:
        recorded.builds.append({"ref": ref, "context": context, **kw})

    def k8s_resource(workload: str, **kw: Any) -> None:
        assert workload not in recorded.resources, f"k8s_resource({workload!r}) twice"
        recorded.resources[workload] = kw

    builtins = {
        "docker_build": docker_build,
        "k8s_yaml": recorded.yaml.append,
        "kustomize": lambda path: ("kustomize", path),
        "k8s_resource": k8s_resource,
        "sync": lambda local, remote: ("sync", local, remote),
        "fall_back_on": lambda files: ("fall_back_on", files),
        "read_yaml": lambda path: yaml.safe_load((repo / path).read_text()),
    }
    source = (repo / "Tiltfile").read_text()
    exec(compile(source, "Tiltfile", "exec"), builtins)  # noqa: S102 - our own file
    return recorded


def workloads(docs: list[Manifest]) -> dict[str, Manifest]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] in WORKLOAD_KINDS}


def test_applies_the_dev_overlay_and_nothing_else(tilt: Recorded, repo: Path) -> None:
    assert tilt.yaml == [("kustomize", "k8s/overlays/dev")]
    # Repeats nothing from the overlay: no inline manifests, no literal k8s objects.
    assert not re.search(r"apiVersion|kind:", (repo / "Tiltfile").read_text())


def test_builds_each_service_image_used_by_the_overlay(
    tilt: Recorded, repo: Path, rendered: dict[str, list[Manifest]]
) -> None:
    images = {
        container["image"].split(":")[0]
        for workload in workloads(rendered["dev"]).values()
        for container in workload["spec"]["template"]["spec"]["containers"]
    }
    refs = {build["ref"] for build in tilt.builds}
    assert refs == {f"chat-backend/{s}" for s in ("auth-service", "chat-service", "aggregator")}
    assert refs <= images
    compose = yaml.safe_load((repo / "docker-compose.yml").read_text())
    for build in tilt.builds:
        assert build["context"] == "."
        # The same image as compose builds: the one Dockerfile, the same arguments.
        assert build["dockerfile"] == "Dockerfile"
        name = build["ref"].split("/")[1]
        assert build["build_args"] == compose[f"x-{name}-build"]["args"], name
        dockerfile = repo / build["dockerfile"]
        assert re.search(rf"^FROM \S+ AS {build['target']}$", dockerfile.read_text(), re.M)


def test_live_update_syncs_real_source_into_the_installed_packages(
    tilt: Recorded, repo: Path
) -> None:
    for build in tilt.builds:
        steps = build["live_update"]
        assert steps[0][0] == "fall_back_on", "fall_back_on must come first"
        for path in steps[0][1]:
            assert (repo / path).is_file(), path
        syncs = [step for step in steps if step[0] == "sync"]
        assert syncs, build["ref"]
        dockerfile = (repo / build["dockerfile"]).read_text()
        installed = [build["build_args"]["SERVICE"], *build["build_args"]["LIBRARIES"].split()]
        for _, local, remote in syncs:
            assert (repo / local / "__init__.py").is_file(), local
            package = Path(local).name
            assert remote.endswith(f"/site-packages/{package}"), remote
            # The dev image installs it there, lets its user write there and watches it.
            site_packages = remote.rsplit("/", 1)[0]
            assert f"WORKDIR {site_packages}\n" in dockerfile, site_packages
            assert Path(local).parts[0] in installed, local
            assert Path(local).parts[0] in build["only"], local


def test_resources_exist_forward_local_ports_and_are_grouped(
    tilt: Recorded, rendered: dict[str, list[Manifest]], local_ports: dict[str, int]
) -> None:
    existing = workloads(rendered["dev"])
    assert set(tilt.resources) == set(existing), "every workload configured, none invented"
    forwarded: dict[int, str] = {}
    for name, options in tilt.resources.items():
        assert options.get("labels"), f"{name} has no label group"
        for dependency in options.get("resource_deps", []):
            assert dependency in existing, (name, dependency)
        pod = existing[name]["spec"]["template"]["spec"]
        container_ports = {
            p["containerPort"] for c in pod["containers"] for p in c.get("ports", [])
        }
        for forward in options.get("port_forwards", []):
            local, remote = (int(part) for part in forward.split(":"))
            assert remote in container_ports, (name, forward)
            assert local not in forwarded, (name, forwarded.get(local))
            forwarded[local] = name
    assert forwarded == {port: name for name, port in local_ports.items()}
