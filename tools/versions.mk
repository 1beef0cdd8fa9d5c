# Pinned inputs of the workbench.  Changing any of these changes the cache key.
# Shell-compatible: tools/*.sh source this file as well.

KERNEL_DEB_PKG=linux-source-7.3
KERNEL_DEB_VERSION=7.3.4-1~bpo13+1
KERNEL_DEB_SUITE=trixie-backports
KERNEL_DEB_SHA256=703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3
KERNEL_TARBALL=linux-source-7.3.tar.xz

RUSTC_WEB_VERSION=1.96.0+dfsg1-1~deb12u2
LLVM_VERSION=1:19.1.7-3~deb12u1
QEMU_VERSION=1:10.0.2+ds-2+deb13u1~bpo12+1
BUSYBOX_VERSION=1:1.35.0-4+deb12u1+b1
BINDGEN_VERSION=0.72.1
PLY_VERSION=3.11
GITPYTHON_VERSION=3.1.43
# make bench's report (tools/bench-report.py), pip-installed into a venv.
MATPLOTLIB_VERSION=3.9.4
NUMPY_VERSION=2.1.3
# make bench's kernels: clang of the same LLVM as rustc-web (bookworm-security),
# so that the C helpers are inlined into Rust code.
LLVM22_VERSION=1:22.1.8-1~deb12u1
