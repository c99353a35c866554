#!/bin/sh
# Build seed corpora for the volume targets into fuzz/corpus/<target>/ (ignored by
# git): small disks made by sfdisk/sgdisk, and an LVM PV written by a few lines of
# Python (independent of the Rust reader and of the mock disk generator).
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p corpus/volume_mbr corpus/volume_gpt corpus/volume_lvm corpus/block_qcow2

truncate -s 256K "$tmp/mbr"
printf 'label: dos\nstart=1, size=100, type=83, bootable\nstart=101, size=300, type=5\nstart=102, size=50, type=83\nstart=160, size=50, type=82\nstart=220, size=100, type=8e\n' | sfdisk -q "$tmp/mbr"
head -c 163840 "$tmp/mbr" > corpus/volume_mbr/logical

truncate -s 256K "$tmp/gpt"
sgdisk -q -a 1 -n1:34:100 -t1:8300 -c1:root -n2:101:300 -t2:8e00 "$tmp/gpt"
{ printf '\001'; head -c 40960 "$tmp/gpt"; } > corpus/volume_gpt/two
{ printf '\000'; head -c 40960 "$tmp/gpt"; } > corpus/volume_gpt/two-nofix

python3 - "$tmp/pv" <<'PY'
import struct, sys
def crc(data, c=0xf597a6cf):
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ (0xedb88320 if c & 1 else 0)
    return c
disk = bytearray(256 * 1024)
mda, mda_size, pe_start = 4096, 61440, 128  # pe_start in sectors (64 KiB)
text = b'''vg0 {
id = "a"
seqno = 1
extent_size = 8
physical_volumes {
pv0 {
id = "AbCdEf-0123-4567-89Gh-IjKl-0123-456789"
pe_start = 128
pe_count = 100
}
}
logical_volumes {
root {
id = "r"
status = ["VISIBLE"]
segment1 {
start_extent = 0
extent_count = 4
type = "striped"
stripe_count = 1
stripes = ["pv0", 2]
}
segment2 {
start_extent = 4
extent_count = 2
type = "striped"
stripe_count = 1
stripes = ["pv0", 0]
}
}
}
}
''' + b'\0'
lab = bytearray(512)
lab[0:8] = b"LABELONE"; lab[8:16] = struct.pack("<Q", 1); lab[20:24] = struct.pack("<I", 32)
lab[24:32] = b"LVM2 001"; lab[32:64] = b"AbCdEf0123456789GhIjKl0123456789"
lab[64:72] = struct.pack("<Q", len(disk)); lab[72:80] = struct.pack("<Q", pe_start * 512)
lab[104:120] = struct.pack("<QQ", mda, mda_size)
lab[16:20] = struct.pack("<I", crc(lab[20:]))
disk[512:1024] = lab
disk[mda + 512: mda + 512 + len(text)] = text
h = bytearray(512)
h[4:20] = b" LVM2 x[5A%r0N*>"; h[20:24] = struct.pack("<I", 1)
h[24:40] = struct.pack("<QQ", mda, mda_size)
h[40:60] = struct.pack("<QQI", 512, len(text), crc(text))
h[0:4] = struct.pack("<I", crc(h[4:]))
disk[mda:mda + 512] = h
open(sys.argv[1], "wb").write(disk)
PY
{ printf '\003'; head -c 8192 "$tmp/pv"; } > corpus/volume_lvm/linear
{ printf '\000'; head -c 8192 "$tmp/pv"; } > corpus/volume_lvm/linear-nofix

truncate -s 1M "$tmp/raw"
qemu-img convert -f raw -O qcow2 -o cluster_size=512 "$tmp/raw" corpus/block_qcow2/small
qemu-img create -q -f qcow2 -b base.raw -F raw -u corpus/block_qcow2/backing 1M
# stack_inspect: an MBR disk with a small ext4 Debian-like root (os-release,
# hostname, fstab, an ELF header as /bin/bash, a dpkg status) and a FAT partition.
mkdir -p corpus/stack_inspect "$tmp/root/etc" "$tmp/root/bin" "$tmp/root/var/lib/dpkg"
printf 'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' > "$tmp/root/etc/os-release"
echo seed-vm > "$tmp/root/etc/hostname"
printf 'UUID=0000 / ext4 defaults 0 1\n/dev/sda2 /boot/efi vfat defaults 0 2\n' > "$tmp/root/etc/fstab"
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\076\000' > "$tmp/root/bin/bash"
ln -s bash "$tmp/root/bin/sh"
printf 'Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u5\nDescription: base\n multi-line\n' > "$tmp/root/var/lib/dpkg/status"
mke2fs -q -F -t ext4 -b 1024 -N 32 -d "$tmp/root" "$tmp/ext4" 160K
truncate -s 64K "$tmp/fat" && mkfs.vfat -C "$tmp/fat2" 64 >/dev/null 2>&1 || true
truncate -s 256K "$tmp/stack"
printf 'label: dos\nstart=64, size=320, type=83\nstart=384, size=128, type=c\n' | sfdisk -q "$tmp/stack"
dd if="$tmp/ext4" of="$tmp/stack" bs=512 seek=64 conv=notrunc status=none
[ -f "$tmp/fat2" ] && dd if="$tmp/fat2" of="$tmp/stack" bs=512 seek=384 conv=notrunc status=none
cp "$tmp/stack" corpus/stack_inspect/debian-ext4-fat
# ... and an Arch-like root, whose packages are read one directory each
# (pacman's local/<pkg>/desc, through ext4 directory entries).
mkdir -p "$tmp/arch/etc" "$tmp/arch/usr/bin" "$tmp/arch/var/lib/pacman/local"
printf 'NAME="Arch Linux"\nID=arch\n' > "$tmp/arch/etc/os-release"
: > "$tmp/arch/etc/arch-release"
echo arch-vm > "$tmp/arch/etc/hostname"
printf '/dev/sda1 / ext4 defaults 0 1\n' > "$tmp/arch/etc/fstab"
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\076\000' > "$tmp/arch/usr/bin/bash"
ln -s usr/bin "$tmp/arch/bin"
for p in bash-5.2.026-2 glibc-2.39-1 zlib-1:1.3.1-1; do
  mkdir -p "$tmp/arch/var/lib/pacman/local/$p"
  printf '%%NAME%%\n%s\n\n%%VERSION%%\n%s\n\n%%ARCH%%\nx86_64\n' "${p%%-*}" "${p#*-}" > "$tmp/arch/var/lib/pacman/local/$p/desc"
done
ln -s bash-5.2.026-2 "$tmp/arch/var/lib/pacman/local/alias"
mke2fs -q -F -t ext4 -b 1024 -N 48 -d "$tmp/arch" "$tmp/ext4a" 160K
cp "$tmp/stack" "$tmp/stacka"
dd if="$tmp/ext4a" of="$tmp/stacka" bs=512 seek=64 conv=notrunc status=none
cp "$tmp/stacka" corpus/stack_inspect/arch-ext4-fat
echo "seeds written to fuzz/corpus/"
