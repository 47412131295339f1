// The command-line face every Flashdrop command shares: --help, refused unknown flags, progress.
export * from './command';
