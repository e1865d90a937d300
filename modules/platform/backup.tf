# AWS Backup of the tables whose loss loses cards or money (modules/backup), where var.backup
# turns it on (prod): the vault's records, the per-tenant keys they are encrypted under (a
# vault backup is useless without them), and the ledger. A daily plan into a vault of its own,
# with its own key (modules/kms's backup key) and a vault lock. Every table also keeps 35 days
# of point-in-time recovery in place; these are the copies that survive the table, its key or
# the deployer.

module "backup" {
  source = "../backup"
  count  = var.backup.enabled ? 1 : 0

  name        = var.name_prefix
  kms_key_arn = module.kms.backup_key_arn
  dynamodb_table_arns = [
    module.vault.table_arn,
    module.vault.key_table_arn,
    module.payment_workflow.ledger_table_arn,
  ]
  # Null (unset) keeps the module's default: its variables are not nullable.
  schedule_expression = var.backup.schedule_expression
  retention_days      = var.backup.retention_days
  vault_lock          = { changeable_for_days = var.backup.vault_lock_changeable_for_days }
  alarm_sns_topic_arn = module.audit.alarm_topic_arn

  tags = local.cde_tags
}
