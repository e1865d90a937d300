output "api_url" {
  description = "Invoke URL of the Payment API."
  value       = module.platform.api_url
}

output "payment_state_machine_arn" {
  description = "ARN of the EXPRESS payment workflow."
  value       = module.platform.payment_state_machine_arn
}
