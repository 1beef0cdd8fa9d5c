# The devices of the patched QEMU of make check-qemu (tools/build-qemu.sh
# copies this file to configs/devices/x86_64-softmmu/kcp.mak and configures
# with --without-default-devices --with-devices-x86_64=kcp): the pc and q35
# machines and what they select, nothing else.
CONFIG_I440FX=y
CONFIG_Q35=y
