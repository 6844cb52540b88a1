"""The write side's commands, a module per rule family, composed into `services.application`."""
