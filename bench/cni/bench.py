"""Timing driver for bench/cni/run.sh. Enters the node namespace itself (setns) so that no `ip netns exec`
start-up is counted, then times each plugin run with perf_counter around fork/exec/wait. With a baseline plugin
(a second build, e.g. main's), both are run in every round, interleaved, so that both see the same machine."""
import ctypes
import json
import os
import random
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PLUGINS = [("flannel", os.path.abspath(sys.argv[1]))]
RUNS = int(sys.argv[2])
if len(sys.argv) > 3 and sys.argv[3]:
    PLUGINS.append(("baseline", os.path.abspath(sys.argv[3])))
CNI_BIN = "/usr/lib/cni"
PREFIX = "fnt-bench-" + secrets.token_hex(3)
NODE, POD = PREFIX + "-node", PREFIX + "-pod"
SUBNET_ENV = "FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"


def cpu_children():
    # Reaping a process costs its reaper kernel time (flushing its /proc entries: several ms for the Go bridge
    # here). Run directly, the bridge is reaped by this script; run by our plugin, by the plugin. Counting this
    # script's own CPU as well keeps that cost on both sides of the comparison.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    self = resource.getrusage(resource.RUSAGE_SELF)
    return children.ru_utime + children.ru_stime + self.ru_utime + self.ru_stime


def run(argv, stdin, env, cpu=None):
    """Wall time in ms. With a cpu list, also appends the CPU time (ms) of the process, of the children it waited
    for (the delegate) and of this script: that figure does not grow when other work loads the machine."""
    before = cpu_children()
    start = time.perf_counter_ns()
    done = subprocess.run(argv, input=stdin, env=env, capture_output=True)
    elapsed = (time.perf_counter_ns() - start) / 1e6
    if cpu is not None:
        cpu.append((cpu_children() - before) * 1000)
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed: {done.stdout!r} {done.stderr!r}")
    return elapsed, done.stdout


def cni_env(command, cid):
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CNI_COMMAND": command, "CNI_CONTAINERID": cid,
            "CNI_NETNS": f"/var/run/netns/{POD}", "CNI_IFNAME": "eth0", "CNI_PATH": CNI_BIN}


def median(values):
    return statistics.median(values)


def main():
    tmp = tempfile.mkdtemp(prefix=PREFIX + "-")
    shm = tempfile.mkdtemp(prefix=PREFIX + "-", dir="/dev/shm")
    subprocess.run(["ip", "netns", "add", NODE], check=True)
    subprocess.run(["ip", "netns", "add", POD], check=True)
    try:
        subprocess.run(["ip", "-n", NODE, "link", "set", "lo", "up"], check=True)
        fd = os.open(f"/var/run/netns/{NODE}", os.O_RDONLY)
        if ctypes.CDLL(None, use_errno=True).setns(fd, 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)
        bench(tmp, shm)
    finally:
        subprocess.run(["ip", "netns", "del", POD])
        subprocess.run(["ip", "netns", "del", NODE])
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(shm, ignore_errors=True)


def netconf(tmp, data_dir):
    return json.dumps({"cniVersion": "1.0.0", "name": "cbr0", "type": "flannel",
                       "subnetFile": os.path.join(tmp, "subnet.env"), "dataDir": data_dir,
                       "ipam": {"dataDir": os.path.join(tmp, "ipam")},
                       "delegate": {"hairpinMode": True, "isDefaultGateway": True}}).encode()


def fsync_latency(directory):
    """What the plugin's fsync of its state file costs on this disk now: write, rename, fsync, as StateStore does."""
    times = []
    for i in range(RUNS):
        path = os.path.join(directory, f"fsync-{i}")
        fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, b"x" * 270)
        os.rename(path + ".tmp", path)
        start = time.perf_counter_ns()
        os.fsync(fd)
        times.append((time.perf_counter_ns() - start) / 1e6)
        os.close(fd)
        os.unlink(path)
    return median(times)


def own_times(cc, tmp, conf, rendered, bridge):
    """Each plugin's own time around the real bridge: the bridge runs under timing-delegate, which records when it
    started and reaped it, and a run's own time is its wall time minus that window. The bridge alone runs under it
    too, so its "own time" is what starting any program costs (this script's fork and wait, the wrapper's exec); the
    difference per round is the plugin's overhead without the bridge's run-to-run variance."""
    tdir = os.path.join(tmp, "timing")
    os.makedirs(tdir)
    wrapper = os.path.join(tdir, "bridge")
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "timing-delegate.c")
    if subprocess.run([cc, "-O2", "-static", "-o", wrapper, source], capture_output=True).returncode != 0:
        subprocess.run([cc, "-O2", "-o", wrapper, source], check=True)
    timing = os.path.join(tmp, "timing.txt")
    runners = [(name, [plugin], conf) for name, plugin in PLUGINS] + [("direct", [wrapper], rendered)]
    own = {f"{name}_{op}": [] for name, _, _ in runners for op in ("add", "del")}
    for i in range(RUNS):
        for name, argv, stdin in random.sample(runners, len(runners)):
            for op in ("add", "del"):
                env = cni_env(op.upper(), f"t{name[0]}{i}")
                env.update(CNI_PATH=tdir + ":" + CNI_BIN, BENCH_DELEGATE=bridge, BENCH_TIMING_FILE=timing)
                open(timing, "w").close()
                start = time.monotonic_ns()
                run(argv, stdin, env)
                elapsed = time.monotonic_ns() - start
                with open(timing) as f:
                    windows = [int(b) - int(a) for a, b in (line.split() for line in f if line.strip())]
                own[f"{name}_{op}"].append((elapsed - sum(windows)) / 1e6)
    return own


def bench(tmp, shm):
    with open(os.path.join(tmp, "subnet.env"), "w") as f:
        f.write(SUBNET_ENV)
    data_dir = os.path.join(tmp, "flannel")
    conf = netconf(tmp, data_dir)

    # One warm-up ADD/DEL per plugin creates cni0 and yields the rendered delegate configuration for the direct runs.
    for _, plugin in PLUGINS:
        run([plugin], conf, cni_env("ADD", "warm"))
        with open(os.path.join(data_dir, "warm"), "rb") as f:
            rendered = f.read()
        run([plugin], conf, cni_env("DEL", "warm"))
    bridge = os.path.join(CNI_BIN, "bridge")
    run([bridge], rendered, cni_env("ADD", "warm"))
    run([bridge], rendered, cni_env("DEL", "warm"))

    keys = [f"{name}_{op}" for name, _ in PLUGINS for op in ("add", "del")] + ["direct_add", "direct_del"]
    wall = {k: [] for k in keys}
    cpu = {k: [] for k in keys}
    # Each round runs every plugin and the bridge alone (ADD then DEL each) in a random order: what runs right after
    # a DEL meets the kernel's deferred clean-up of its veth, and a fixed order would always hand that to the same one.
    runners = [(name, [plugin], conf) for name, plugin in PLUGINS] + [("direct", [bridge], rendered)]
    for i in range(RUNS):
        for name, argv, stdin in random.sample(runners, len(runners)):
            for op in ("add", "del"):
                t, _ = run(argv, stdin, cni_env(op.upper(), f"{name[0]}{i}"), cpu[f"{name}_{op}"])
                wall[f"{name}_{op}"].append(t)

    cc = shutil.which("cc") or shutil.which("clang")
    own = own_times(cc, tmp, conf, rendered, bridge) if cc else None

    version = {name: [] for name, _ in PLUGINS}
    version_cpu = {name: [] for name, _ in PLUGINS}
    true_ = []
    for _ in range(RUNS):
        for name, plugin in PLUGINS:
            t, _ = run([plugin], b"", {"CNI_COMMAND": "VERSION"}, version_cpu[name])
            version[name].append(t)
        t, _ = run(["/bin/true"], b"", {})
        true_.append(t)

    # The plugin's own cost, with a delegate that does nothing (compiled here; skipped without a C compiler): state
    # on disk (ADD waits for the state file's fsync, which bridge's own run hides) and on tmpfs (no disk at all).
    null = None
    if cc:
        null_dir = os.path.join(tmp, "null")
        os.makedirs(null_dir)
        subprocess.run([cc, "-O2", "-o", os.path.join(null_dir, "bridge"),
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "null-delegate.c")], check=True)
        confs = {"disk": conf, "tmpfs": netconf(tmp, os.path.join(shm, "flannel"))}
        nkeys = [f"{name}_{where}_{op}" for name, _ in PLUGINS for where in confs for op in ("add", "del")] + ["alone"]
        n = {k: [] for k in nkeys}
        nc = {k: [] for k in nkeys}
        for i in range(RUNS):
            for name, plugin in PLUGINS:
                for where, c in confs.items():
                    for op in ("add", "del"):
                        env = cni_env(op.upper(), f"n{name[0]}{i}")
                        env["CNI_PATH"] = null_dir
                        t, _ = run([plugin], c, env, nc[f"{name}_{where}_{op}"])
                        n[f"{name}_{where}_{op}"].append(t)
            t, _ = run([os.path.join(null_dir, "bridge")], rendered, {}, nc["alone"])
            n["alone"].append(t)
        null = ({k: median(v) for k, v in n.items()}, {k: median(v) for k, v in nc.items()})
    fsync_ms = fsync_latency(tmp)

    # Peak RSS: VERSION and a DEL without state (whole config path, no child) under GNU time; for ADD, a wrapper
    # delegate reads our VmHWM from /proc/<parent> once we have parsed, rendered, saved and spawned.
    def max_rss(argv, stdin, env):
        done = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, input=stdin, env=env, capture_output=True)
        return int(done.stderr.decode().strip().splitlines()[-1])

    probe_dir = os.path.join(tmp, "probe")
    os.makedirs(probe_dir)
    rss = {}
    for name, plugin in PLUGINS:
        hwm_file = os.path.join(tmp, f"hwm-{name}")
        with open(os.path.join(probe_dir, "bridge"), "w") as f:
            f.write(f"#!/bin/sh\ngrep VmHWM /proc/$PPID/status >> {hwm_file}\nexec {bridge} \"$@\"\n")
        os.chmod(os.path.join(probe_dir, "bridge"), 0o755)
        for i in range(5):
            env = cni_env("ADD", f"r{name[0]}{i}")
            env["CNI_PATH"] = probe_dir + ":" + CNI_BIN
            run([plugin], conf, env)
            env["CNI_COMMAND"] = "DEL"
            run([plugin], conf, env)
        with open(hwm_file) as f:
            rss_add = max(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
        rss[name] = (max(max_rss([plugin], b"", {"CNI_COMMAND": "VERSION"}) for _ in range(5)),
                     max(max_rss([plugin], conf, cni_env("DEL", "absent")) for _ in range(5)), rss_add)

    m = {k: median(v) for k, v in wall.items()}
    c = {k: median(v) for k, v in cpu.items()}
    print(f"runs per figure: {RUNS} (median), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
          f"(/proc/loadavg: {open('/proc/loadavg').read().strip()})")
    print(f"fsync of a new 270-byte file in {tmp} (the state file's): {fsync_ms:.2f} ms median")
    def paired(figures, name, op):
        """Median of the per-round differences to the bridge alone, and a 95% bootstrap interval for it."""
        diffs = [a - b for a, b in zip(figures[f"{name}_{op}"], figures[f"direct_{op}"])]
        rng = random.Random(1)
        boot = sorted(median(rng.choices(diffs, k=len(diffs))) for _ in range(1000))
        return f"{median(diffs):.2f}, 95% {boot[25]:.2f}..{boot[974]:.2f}"

    for name, plugin in PLUGINS:
        paired_add = paired(wall, name, "add")
        paired_del = paired(wall, name, "del")
        print()
        print(f"[{name}] {plugin} ({os.path.getsize(plugin) // 1024} KiB)")
        print(f"                    {name:>14}  bridge alone  overhead  (paired median)")
        print(f"ADD wall (ms)       {m[name + '_add']:14.2f}  {m['direct_add']:12.2f}  {m[name + '_add'] - m['direct_add']:8.2f}  ({paired_add})")
        print(f"DEL wall (ms)       {m[name + '_del']:14.2f}  {m['direct_del']:12.2f}  {m[name + '_del'] - m['direct_del']:8.2f}  ({paired_del})")
        print(f"ADD wall min (ms)   {min(wall[name + '_add']):14.2f}  {min(wall['direct_add']):12.2f}  {min(wall[name + '_add']) - min(wall['direct_add']):8.2f}")
        print(f"DEL wall min (ms)   {min(wall[name + '_del']):14.2f}  {min(wall['direct_del']):12.2f}  {min(wall[name + '_del']) - min(wall['direct_del']):8.2f}")
        print(f"ADD CPU (ms)        {c[name + '_add']:14.2f}  {c['direct_add']:12.2f}  {c[name + '_add'] - c['direct_add']:8.2f}")
        print(f"DEL CPU (ms)        {c[name + '_del']:14.2f}  {c['direct_del']:12.2f}  {c[name + '_del'] - c['direct_del']:8.2f}")
        if own is not None:
            print(f"own time around the real bridge (ms): ADD {median(own[name + '_add']):.2f}, DEL {median(own[name + '_del']):.2f}; "
                  f"bridge alone {median(own['direct_add']):.2f} / {median(own['direct_del']):.2f}; "
                  f"overhead ADD {paired(own, name, 'add')}, DEL {paired(own, name, 'del')}")
        print(f"start-up, VERSION: wall {median(version[name]):.2f} ms (/bin/true {median(true_):.2f} ms), CPU {median(version_cpu[name]):.2f} ms")
        if null is None:
            print("null delegate: skipped (no cc/clang)")
        else:
            nm, ncm = null
            for where in ("tmpfs", "disk"):
                k = f"{name}_{where}"
                print(f"null delegate, state on {where:5}: ADD wall {nm[k + '_add'] - nm['alone']:.2f} ms / CPU {ncm[k + '_add'] - ncm['alone']:.2f} ms, "
                      f"DEL wall {nm[k + '_del'] - nm['alone']:.2f} ms / CPU {ncm[k + '_del'] - ncm['alone']:.2f} ms beyond the delegate's own")
        rv, rd, ra = rss[name]
        print(f"peak RSS: VERSION {rv / 1024:.1f} MiB, DEL (no state) {rd / 1024:.1f} MiB, ADD (at delegate spawn) {ra / 1024:.1f} MiB")


main()
