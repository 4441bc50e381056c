// fsdpshard command line: CLI11 wiring only; the commands live in src/commands/.
#include <cstdio>

int main() {
  std::puts("fsdpshard: under construction");
  return 0;
}
