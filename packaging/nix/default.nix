# Build with: nix-build packaging/nix
{ pkgs ? import <nixpkgs> { } }:

pkgs.rustPlatform.buildRustPackage {
  pname = "runas-launcher";
  version = "0.1.0";
  src = ../..;
  cargoLock.lockFile = ../../Cargo.lock;

  # The privileged tests need root and mount namespaces, which the build
  # sandbox does not give; the unit tests run.
  cargoTestFlags = [ "--workspace" "--lib" ];

  postBuild = ''
    cargo run --release --offline --example completions -- target/completions
  '';

  postInstall = ''
    install -Dm644 man/runas.1 $out/share/man/man1/runas.1
    install -Dm644 target/completions/runas.bash $out/share/bash-completion/completions/runas
    install -Dm644 target/completions/_runas $out/share/zsh/site-functions/_runas
    install -Dm644 target/completions/runas.fish $out/share/fish/vendor_completions.d/runas.fish
  '';

  meta = with pkgs.lib; {
    description = "Run a command as another user and/or group, in place, verified";
    license = licenses.mit;
    platforms = platforms.linux;
    mainProgram = "runas";
  };
}
