kernel "k" {
  release = "6.1.0-56-amd64"
  arch = = "x86_64" # ERROR: invalid-expression
}
