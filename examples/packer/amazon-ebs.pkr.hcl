# Harden an Ubuntu 24.04 AMI. Not run in this repository's tests (no AWS
# here); `packer validate -syntax-only` checks it offline, and a plain
# `packer validate` once the amazon plugin is installed.
packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
    hardbake = {
      source  = "github.com/hardbake/hardbake"
      version = ">= 0.1.0"
    }
  }
}

variable "region" {
  type    = string
  default = "eu-central-1"
}

source "amazon-ebs" "ubuntu" {
  region        = var.region
  instance_type = "t3.small"
  ami_name      = "golden-ubuntu-2404-{{timestamp}}"
  ssh_username  = "ubuntu"
  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["099720109477"]
    most_recent = true
  }
}

build {
  sources = ["source.amazon-ebs.ubuntu"]

  provisioner "hardbake" {
    profile     = "${path.root}/../profiles/web.yaml"
    report_path = "hardbake-report.json"
  }
}
