# A hardened, sealed Debian 12 golden image, built with the real QEMU builder
# and the hardbake provisioner. scripts/pipeline.sh (`make demo`) runs it and
# then boots the result fresh; the e2e suite runs it once per `make test`.
#
# The base image is a raw disk holding one ext4 filesystem (no partition
# table, no bootloader) plus the kernel and initrd that boot it directly
# (QEMU -kernel/-initrd): `go run ./internal/baseimage/cmd/baseimage bookworm`
# builds and caches one. The build user `packer` does not exist in it:
# cloud-init creates it at boot from the NoCloud seed this template attaches
# (cd_content, label cidata), with the public key of ssh_private_key_file.
# Sealing removes that user again (at the image's first boot, because Packer
# is still logged in while the image is sealed).
#
#   packer build -var base_dir=$HOME/.cache/hardbake/images/debian-bookworm-... \
#     -var ssh_private_key_file=build_key -var ssh_public_key="$(cat build_key.pub)" \
#     examples/packer/debian-12.pkr.hcl
#
# No KVM is assumed (accelerator "tcg"): timeouts are generous.
packer {
  required_plugins {
    qemu = {
      source  = "github.com/hashicorp/qemu"
      version = ">= 1.0.9"
    }
    hardbake = {
      source  = "github.com/hardbake/hardbake"
      version = ">= 0.1.0"
    }
  }
}

variable "base_dir" {
  type        = string
  description = "Directory of the base image: disk.raw, vmlinuz, initrd.img."
  default     = "base"
}

variable "output_directory" {
  type        = string
  description = "Where the sealed disk.raw (and its vmlinuz, initrd.img) go; must not exist."
  default     = "output-debian-12"
}

variable "ssh_private_key_file" {
  type        = string
  description = "Private key Packer logs in with as the build user packer."
  default     = "build_key"
}

variable "ssh_public_key" {
  type        = string
  description = "Its public key (authorized_keys line), put into the seed for cloud-init."
}

variable "report_path" {
  type    = string
  default = "hardbake-report.json"
}

variable "serial_log" {
  type        = string
  description = "File receiving the build VM's serial console."
  default     = "build-serial.log"
}

locals {
  # Direct kernel boot: root is the whole virtio disk; classic NIC names so
  # the base image's DHCP config for eth0 matches.
  kernel_cmdline = "root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1"
}

source "qemu" "debian" {
  iso_url          = "${var.base_dir}/disk.raw"
  iso_checksum     = "none"
  disk_image       = true
  use_backing_file = false
  format           = "raw"
  # Keep the filesystem's size: there is no partition to grow.
  skip_resize_disk = true
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  output_directory = var.output_directory
  vm_name          = "disk.raw"
  # With convert args the plugin copies with `qemu-img convert`, which keeps
  # the disk sparse (its plain copy writes all 3 GiB).
  qemu_img_args {
    convert = ["-f", "raw"]
  }

  accelerator  = "tcg"
  machine_type = "q35"
  cpu_model    = "max"
  cpus         = 2
  memory       = 1024
  headless     = true
  qemuargs = [
    ["-kernel", "${var.base_dir}/vmlinuz"],
    ["-initrd", "${var.base_dir}/initrd.img"],
    ["-append", local.kernel_cmdline],
    ["-serial", "file:${var.serial_log}"],
    # The seed CD on virtio-scsi: Debian's cloud kernel has no AHCI driver
    # for q35's default SATA CD, and the plugin's own virtio-scsi wiring
    # (v1.0.9) adds a bus-less "virtio-scsi-device" QEMU rejects. Giving
    # -device here replaces the plugin's devices; it re-adds the NIC itself.
    ["-device", "virtio-scsi-pci,id=scsi0"],
    ["-device", "scsi-cd,bus=scsi0.0,drive=cdrom0"],
    # Entropy for the guest (sshd host keys, cloud-init) under TCG.
    ["-device", "virtio-rng-pci"],
  ]

  # The NoCloud seed (genisoimage/mkisofs/xorriso on the host makes it).
  cd_label        = "cidata"
  cdrom_interface = "virtio-scsi"
  cd_content = {
    "meta-data" = "instance-id: hardbake-packer-build\nlocal-hostname: hardbake-build\n"
    "user-data" = <<-EOF
      #cloud-config
      manage_etc_hosts: true
      ssh_pwauth: false
      users:
        - name: packer
          shell: /bin/bash
          lock_passwd: true
          sudo: "ALL=(ALL) NOPASSWD:ALL"
          ssh_authorized_keys:
            - ${var.ssh_public_key}
    EOF
  }

  communicator         = "ssh"
  ssh_username         = "packer"
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = "20m"
  shutdown_command     = "sudo -n shutdown -P now"
  shutdown_timeout     = "10m"
}

build {
  sources = ["source.qemu.debian"]

  provisioner "hardbake" {
    profile_yaml = <<-EOF
      ssh:
        address_family: any
      audit:
        # AIDE's package scripts (ucf for ~230 files) and its database take
        # over 20 minutes under QEMU without KVM; on a cloud builder with
        # hardware virtualisation they take a minute or two: leave it on.
        aide: false
      seal:
        # Packer's build user: hardbake removes its keys and locks it now, and
        # deletes it at the image's first boot.
        remove_user: packer
    EOF
    seal        = true
    report_path = var.report_path
  }

  # The sealed disk boots only with its own kernel and initrd: copy the newest
  # ones out of its /boot (the bake may have upgraded the kernel), read with
  # debugfs, no mount needed.
  post-processor "shell-local" {
    inline = [
      "cd '${var.output_directory}'",
      "v=$(debugfs -R 'ls -p /boot' disk.raw 2>/dev/null | awk -F/ '$6 ~ /^vmlinuz-/ { sub(/^vmlinuz-/, \"\", $6); print $6 }' | sort -V | tail -n 1)",
      "test -n \"$v\"",
      "debugfs -R \"dump /boot/vmlinuz-$v vmlinuz\" disk.raw",
      "debugfs -R \"dump /boot/initrd.img-$v initrd.img\" disk.raw",
      "echo \"kernel $v: $PWD/vmlinuz, $PWD/initrd.img\"",
    ]
  }
}
