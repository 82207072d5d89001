"""A notebook kernel for ``nbgrader autograde`` that sees only its own folder.

nbgrader runs each submitted notebook in an ordinary kernel, with the
instructor's rights: a notebook cell could read the solutions or hidden
suites and print them into the feedback, rewrite the gradebook, or change
another student's files. With bubblewrap this kernel manager starts the
kernel in a sandbox like the worker's: a read-only view of the Python
installation, the student's autograded folder writable, a private /tmp, and
nothing else of the machine (no repository, no gradebook, no other student).
The kernel keeps the host network, which it needs to talk to nbgrader over
127.0.0.1. Without bubblewrap the kernel runs as nbgrader normally runs it.
"""
import os

from jupyter_client.manager import AsyncKernelManager

from . import sandbox


class SandboxedKernelManager(AsyncKernelManager):
    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if not sandbox.sandbox_available():
            self.log.warning("bubblewrap is not available: the notebook kernel runs without a sandbox")
            return cmd
        cwd = os.path.realpath(self._launch_args.get("cwd") or os.getcwd())
        connection_file = os.path.realpath(self.connection_file)
        return kernel_sandbox_command(cwd, connection_file) + cmd


def kernel_sandbox_command(cwd, connection_file):
    # Order matters: later mounts go on top, so the private /tmp comes first.
    argv = [sandbox.bubblewrap_path(), "--tmpfs", "/tmp", *sandbox.system_mounts()]
    for root in sandbox.python_roots():
        argv += ["--ro-bind", root, root]
    argv += [
        "--proc", "/proc", "--dev", "/dev",
        "--bind", cwd, cwd,
        "--ro-bind", connection_file, connection_file,
        "--setenv", "HOME", "/tmp", "--setenv", "IPYTHONDIR", "/tmp/.ipython",
        "--setenv", "MPLCONFIGDIR", "/tmp/.matplotlib", "--setenv", "JUPYTER_RUNTIME_DIR", "/tmp/.jupyter",
        # In its own pid namespace the kernel's parent is pid 1, which ipykernel would take for
        # "my parent died"; 1 switches that poll off (bwrap's --die-with-parent does the job).
        "--setenv", "JPY_PARENT_PID", "1",
        "--chdir", cwd,
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--cap-drop", "ALL",
    ]
    return argv
