"""One small module per external tool (build argv → run → parse into typed data). See runner.py."""
