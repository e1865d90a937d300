# The emulator's state lives beside this file and dies with the emulator; `make up` recreates
# it. Real environments use the S3 backend (see environments/dev/backend.tf).
terraform {
  backend "local" {
    path = "terraform.tfstate"
  }
}
