"""Importing canonical files and CRM exports into a workspace."""
