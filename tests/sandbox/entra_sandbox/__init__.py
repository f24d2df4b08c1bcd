"""entra_sandbox: a local emulator of Microsoft Graph (synchronization API) and Entra sign-in for tests."""
