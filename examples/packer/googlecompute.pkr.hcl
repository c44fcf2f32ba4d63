# Harden a Debian 12 image on Google Compute Engine. Not run here (no GCP);
# `packer validate -syntax-only` checks it offline.
packer {
  required_plugins {
    googlecompute = {
      source  = "github.com/hashicorp/googlecompute"
      version = ">= 1.1.0"
    }
    hardbake = {
      source  = "github.com/hardbake/hardbake"
      version = ">= 0.1.0"
    }
  }
}

variable "project_id" {
  type = string
}

source "googlecompute" "debian" {
  project_id          = var.project_id
  zone                = "europe-west1-b"
  source_image_family = "debian-12"
  image_name          = "golden-debian-12-{{timestamp}}"
  ssh_username        = "packer"
}

build {
  sources = ["source.googlecompute.debian"]

  provisioner "hardbake" {
    profile_yaml = <<-YAML
      ssh:
        address_family: any
    YAML
    report_path = "hardbake-report.json"
  }
}
