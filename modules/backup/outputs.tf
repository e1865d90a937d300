output "vault_name" {
  description = "Name of the AWS Backup vault."
  value       = aws_backup_vault.this.name
}

output "vault_arn" {
  description = "ARN of the AWS Backup vault."
  value       = aws_backup_vault.this.arn
}

output "plan_id" {
  description = "ID of the backup plan."
  value       = aws_backup_plan.this.id
}

output "role_arn" {
  description = "Role AWS Backup assumes to back up and restore the tables."
  value       = aws_iam_role.this.arn
}

output "protected_table_arns" {
  description = "The tables the plan backs up."
  value       = aws_backup_selection.this.resources
}
