fn main() -> std::process::ExitCode {
    agentls::cli::main()
}
