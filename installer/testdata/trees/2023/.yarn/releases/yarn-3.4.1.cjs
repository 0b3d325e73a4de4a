// Fixture: stands for the Yarn 3.4.1 release a 2023 tree commits (.yarnrc.yml yarnPath).
