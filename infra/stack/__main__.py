"""python -m infra.stack {up,down,status,clean}"""

import argparse
import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import time

from infra.rights import local as local_rights
from infra.stack import process
from infra.stack.components import SERVERS, SERVICES, Component
from infra.stack.paths import REPO, STATE, state_dir


class StackError(Exception):
    """A component could not be installed or started; the message says which and why."""


def components() -> list[Component]:
    return [c for c in (*SERVERS, *SERVICES) if c.exists]


async def is_ready(component: Component, timeout: float = 5.0) -> bool:
    try:
        await asyncio.wait_for(component.ready(), timeout)
    except Exception:  # any failure of the probe means "not ready"
        return False
    return True


def component_env(component: Component, user: str = "") -> dict[str, str]:
    """What a component's processes get besides the inherited environment: its settings
    and its own (or `user`'s) store credentials (generated on first use)."""
    env = {"REPO": str(REPO), "STATE_DIR": str(state_dir(component.name)), **component.env}
    if user or component.user:
        env.update(local_rights.credentials_env(user or component.user))
    return env


def run_step(
    component: Component, argv: tuple[str, ...], quiet: bool = False, user: str = ""
) -> None:
    """Run one install/prepare command; `quiet` sends its output to the component's log."""
    env = component_env(component, user)
    with process.log_file(component.name).open("ab") as log:
        result = subprocess.run(
            argv,
            cwd=REPO,
            env={**os.environ, **env},
            stdout=log if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
        )
    if result.returncode != 0:
        tail = f"; last lines of its log:\n{process.log_tail(component.name)}" if quiet else ""
        raise StackError(f"{component.name}: `{' '.join(argv)}` failed ({result.returncode}){tail}")


def start(component: Component) -> None:
    if process.port_open(component.port):
        raise StackError(
            f"{component.name}: port {component.port} is already in use by a process that "
            f"`make up` did not start; stop it (or free the port) and run `make up` again"
        )
    for argv in component.before_start:
        run_step(component, argv, quiet=True, user=component.setup_user)
    pid = process.start(component.name, component.argv, component_env(component))
    print(f"  started {component.name} (pid {pid}), log: {process.log_file(component.name)}")


async def wait_ready(component: Component) -> float:
    """Wait until `component` answers; fail fast if its process dies. Returns seconds."""
    started = time.monotonic()
    last_note = started
    while True:
        if process.running_pid(component.name) is None:
            raise StackError(
                f"{component.name} exited while starting; last lines of its log:\n"
                f"{process.log_tail(component.name)}"
            )
        if await is_ready(component):
            return time.monotonic() - started
        now = time.monotonic()
        if now - started > component.start_timeout:
            raise StackError(
                f"{component.name} not ready after {component.start_timeout:.0f}s; "
                f"last lines of its log:\n{process.log_tail(component.name)}"
            )
        if now - last_note >= 10:
            print(f"  … waiting for {component.name} ({now - started:.0f}s)", flush=True)
            last_note = now
        await asyncio.sleep(1)


async def bring_up(group: list[Component]) -> None:
    fresh = []
    for component in group:
        if process.running_pid(component.name) is None:
            start(component)
            fresh.append(component)

    async def ready(component: Component) -> None:
        seconds = await wait_ready(component)
        if component in fresh:
            print(f"  ✓ {component.name} ready on 127.0.0.1:{component.port} in {seconds:.1f}s")
        if component.after_ready is not None:
            await component.after_ready()

    await asyncio.gather(*(ready(c) for c in group))


async def up() -> None:
    began = time.monotonic()
    present = components()
    running = [c for c in present if process.running_pid(c.name) is not None]
    if len(running) == len(present) and all(await asyncio.gather(*(is_ready(c) for c in present))):
        print("Everything is already up; nothing to do.")
        await status()
        return
    print("Installing what is missing…", flush=True)
    for server in SERVERS:
        if server.install is not None and process.running_pid(server.name) is None:
            run_step(server, server.install)
    print("Starting servers…", flush=True)
    await bring_up([c for c in present if c in SERVERS])
    services = [c for c in present if c in SERVICES]
    if services:
        print("Starting services…", flush=True)
        await bring_up(services)
    print(f"Up in {time.monotonic() - began:.0f}s.")
    await status()


# Components of earlier versions, stopped by `make down` if a stack of theirs still runs.
RETIRED = ("chat-service",)


def down() -> None:
    stopped = [name for name in RETIRED if process.stop(name, signal.SIGTERM, 30.0)]
    for component in reversed((*SERVERS, *SERVICES)):
        if process.stop(component.name, component.stop_signal, component.stop_timeout):
            stopped.append(component.name)
    print(f"Stopped: {', '.join(reversed(stopped))}." if stopped else "Nothing was running.")


async def status() -> None:
    present = components()
    readies = await asyncio.gather(*(is_ready(c) for c in present))
    print(f"{'component':<14}{'state':<10}{'pid':>8}  {'address':<18}{'rss MiB':>8}  url/log")
    for component, ready in zip(present, readies, strict=True):
        pid = process.running_pid(component.name)
        state = "ready" if ready and pid else "running" if pid else "stopped"
        rss = process.rss_mib(pid) if pid else None
        where = component.url or str(process.log_file(component.name).relative_to(REPO))
        print(
            f"{component.name:<14}{state:<10}{pid or '-':>8}  "
            f"127.0.0.1:{component.port:<8}{f'{rss:.0f}' if rss else '-':>8}  {where}"
        )


def main() -> int:
    # Client libraries log every refused connection while a server boots; our own
    # progress lines say what matters.
    logging.basicConfig(level=logging.CRITICAL)
    parser = argparse.ArgumentParser(prog="python -m infra.stack")
    parser.add_argument("command", choices=["up", "down", "status", "clean"])
    command = parser.parse_args().command
    try:
        if command == "up":
            asyncio.run(up())
        elif command == "down":
            down()
        elif command == "status":
            asyncio.run(status())
        else:
            down()
            shutil.rmtree(STATE, ignore_errors=True)
            print(f"Removed {STATE}.")
    except StackError as exc:
        print(f"make {command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
