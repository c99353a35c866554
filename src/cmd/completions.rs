//! `guestctl completions SHELL`: the shell completion script, generated from the
//! command-line definition by `clap_complete`, on stdout.
//!
//! Install it with, for example,
//! `guestctl completions bash > ~/.local/share/bash-completion/completions/guestctl`.

use std::process::ExitCode;

use crate::cmd::write_stdout;

/// Shells `guestctl completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// bash (bash-completion).
    Bash,
    /// zsh (a `_guestctl` file on `$fpath`).
    Zsh,
    /// fish (`~/.config/fish/completions/guestctl.fish`).
    Fish,
}

impl Shell {
    fn generator(self) -> clap_complete::Shell {
        match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
        }
    }
}

/// Writes the completion script of `shell` for the command line `cli` on stdout.
pub fn run(shell: Shell, mut cli: clap::Command) -> anyhow::Result<ExitCode> {
    let name = cli.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(shell.generator(), &mut cli, name, &mut script);
    write_stdout(&script)?;
    Ok(ExitCode::SUCCESS)
}
