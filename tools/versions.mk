# Pinned inputs of the workbench: every version it installs or fetches.
# Changing one of the kernel's or the toolchain's changes the cache key.
# Shell-compatible: tools/*.sh source this file as well.

# The kernel tree: Debian's linux-source-7.3 from trixie-backports.
KERNEL_DEB_PKG=linux-source-7.3
KERNEL_DEB_VERSION=7.3.4-1~bpo13+1
KERNEL_DEB_SUITE=trixie-backports
KERNEL_DEB_SHA256=703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3
KERNEL_TARBALL=linux-source-7.3.tar.xz

# Debian bookworm (and bookworm-security) packages, installed by
# tools/setup.sh at exactly these versions.
# rustc-web, rust-web-src, rust-web-clippy, rustfmt-web, cargo-web:
RUSTC_WEB_VERSION=1.96.0+dfsg1-1~deb12u2
# clang-19, lld-19, llvm-19, libclang-19-dev:
LLVM_VERSION=1:19.1.7-3~deb12u1
BUSYBOX_VERSION=1:1.35.0-4+deb12u1+b1
FLEX_VERSION=2.6.4-8.2
BISON_VERSION=2:3.8.2+dfsg-1+b1
BC_VERSION=1.07.1-3+b1
LIBELF_VERSION=0.188-2.1
CPIO_VERSION=2.13+dfsg-7.1
RSYNC_VERSION=3.5.0+ds1-0+deb12u1
UUID_DEV_VERSION=2.38.1-5+deb12u3
SHELLCHECK_VERSION=0.9.0-1
# checkpatch.pl's SPDX check (scripts/spdxcheck.py) imports ply and git.
PYTHON3_PLY_VERSION=3.11-5
PYTHON3_GIT_VERSION=3.1.30-1+deb12u3
# From bookworm-backports, by exact version, without "-t": only QEMU
# (qemu-system-x86, -common, -data) and the SeaBIOS it needs come from
# there, everything else from bookworm.
QEMU_VERSION=1:10.0.2+ds-2+deb13u1~bpo12+1
SEABIOS_VERSION=1.16.3-2~bpo12+1
# tools/debootstrap-check.sh, when debootstrap is missing.
DEBOOTSTRAP_VERSION=1.0.128+nmu2+deb12u2

# From crates.io, cargo-installed into the cache with Debian's cargo-web.
BINDGEN_VERSION=0.72.1

# make bench's report (tools/bench-report.py), pip-installed into a venv.
MATPLOTLIB_VERSION=3.9.4
NUMPY_VERSION=2.1.3
# make bench's kernels: clang of the same LLVM as rustc-web (bookworm-security),
# so that the C helpers are inlined into Rust code.
LLVM22_VERSION=1:22.1.8-1~deb12u1
# make check-qemu: QEMU_VERSION rebuilt from Debian's source package with
# tools/qemu/*.patch (tools/fetch-qemu.sh, tools/build-qemu.sh).  The
# sha256 of the package's files, as bookworm-backports' signed Sources
# index lists them.
QEMU_SRC_SUITE=bookworm-backports
QEMU_DSC_SHA256=a9eec32b6ddeda8f7e3472b3e9662358a0a764fb2ba9551a8c158c012072bc96
QEMU_ORIG_SHA256=0901da33844a331bf8b3602b9c1fbd178e60b737c8e3ade678255bd090c9b9f1
QEMU_DEBIAN_SHA256=dd04c78b36212c1b463595028c234e8c18241ef25923e7a135671f76d8ec5547
# Its build dependencies (tools/setup.sh --qemu): bookworm, and meson from
# bookworm-backports (QEMU 10 needs meson >= 1.5; bookworm has 1.0.1).
QEMU_MESON_VERSION=1.7.0-1~bpo12+1
QEMU_NINJA_VERSION=1.11.1-2~deb12u1
QEMU_GLIB_VERSION=2.74.6-2+deb12u9
# configure wants pycotap (functional tests); Debian's packaging patches it
# out, which the orig tarball alone does not: bookworm-backports has it.
QEMU_PYCOTAP_VERSION=1.3.1-2~bpo12+1

# A real guest for the nested boots of tools/guest/boot-bench (make check's
# reproducer of issue 20, Documentation/design.md): Debian bookworm's
# distribution kernel, unmodified, from bookworm-security; the sha256 of
# the .deb, as the signed Packages index lists it.
DEBIAN_GUEST_KERNEL_PKG=linux-image-6.1.0-57-amd64
DEBIAN_GUEST_KERNEL_VERSION=6.1.192-3
DEBIAN_GUEST_KERNEL_SUITE=bookworm-security
DEBIAN_GUEST_KERNEL_SHA256=14d219d01e1283261817d961dbb3895cb5b4288d0de10e0ba0632a0d993e15bf
