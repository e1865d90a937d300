# No backend block: the first apply creates the bucket, so its state starts local
# (terraform.tfstate here, git-ignored). To keep it in the bucket afterwards, see README.md
# ("Moving the bootstrap's own state"): a backend_override.tf and `init -migrate-state`.
