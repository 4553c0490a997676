// Hidden sub-commands that document the CLI from its own definitions (the packaging step runs
// them, see cmake/packaging.cmake): `hydra man [SUBCOMMAND]` prints roff for hydra(1) or
// hydra-SUBCOMMAND(1), `hydra man --list` the sub-commands that have a page, and
// `hydra completion bash` a bash completion script. Both walk the whole CLI::App tree, which is
// complete by the time a sub-command runs (register_commands precedes parse).
#include "app/commands.hpp"
#include "app/version.hpp"

#include <fmt/format.h>
#include <cctype>
#include <string_view>

namespace hydra::app {

namespace {

// Sub-commands a user sees: not hidden (group ""), not an option group (no name).
std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* s) { return !s->get_name().empty() && !s->get_group().empty(); });
}

std::vector<const CLI::Option*> visible_options(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !o->get_group().empty(); });
}

bool takes_value(const CLI::Option& o) { return o.get_items_expected_max() > 0; }

// Text for a roff text line: a backslash prints as \e, '-' as \- (an ASCII hyphen-minus that
// can be copied into a shell), and a line that starts with '.' or '\'' is not a request (\&).
std::string roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
    line_start = c == '\n';
  }
  return out;
}

// Several lines of text kept as lines (.br between them); an empty line is a paragraph break.
std::string roff_lines(std::string_view text) {
  std::string out;
  bool pending_break = false;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty()) {
      if (!out.empty()) out += ".PP\n";
      pending_break = false;
      continue;
    }
    if (pending_break) out += ".br\n";
    out += roff(line) + "\n";
    pending_break = true;
  }
  return out;
}

// CLI11's type name is the type, then its validators' descriptions: "TEXT:FILE", "INT:INT in [1 - 9]".
std::string validators(const CLI::Option& o) {
  auto type = o.get_type_name();
  auto colon = type.find(':');
  return colon == std::string::npos ? "" : type.substr(colon + 1);
}

bool names_a_path(const std::string& validator) { return validator == "FILE" || validator == "DIR" || validator == "PATH"; }

// What the value is called: FILE for an existing file, else the type (TEXT, INT...).
std::string metavar(const CLI::Option& o) {
  if (auto v = validators(o); names_a_path(v)) return v;
  auto type = o.get_type_name();
  auto name = type.substr(0, type.find(':'));
  return name.empty() ? "VALUE" : name;
}

// "-h, --help" or "--listen TEXT", bold names, italic value.
std::string option_tag(const CLI::Option& o) {
  std::string tag;
  auto add = [&](const std::string& name) { tag += (tag.empty() ? "" : ", ") + ("\\fB" + roff(name) + "\\fR"); };
  for (const auto& s : o.get_snames()) add("-" + s);
  for (const auto& l : o.get_lnames()) add("--" + l);
  if (takes_value(o)) tag += " \\fI" + roff(metavar(o)) + "\\fR";
  if (o.get_expected_max() > 1) tag += " ...";
  return tag;
}

// One .TP entry per option: description, then what CLI11 knows of it.
std::string options_list(const CLI::App& app) {
  std::string out;
  for (const auto* o : visible_options(app)) {
    if (!o->nonpositional()) continue;
    out += ".TP\n" + option_tag(*o) + "\n" + roff(o->get_description()) + "\n";
    std::vector<std::string> notes;
    if (o->get_required()) notes.push_back("Required.");
    if (auto v = validators(*o); !v.empty() && !names_a_path(v)) notes.push_back("Accepts: " + v + ".");
    if (!o->get_default_str().empty()) notes.push_back("Default: " + o->get_default_str() + ".");
    if (!o->get_envname().empty()) notes.push_back("Environment: " + o->get_envname() + ".");
    if (o->get_expected_max() > 1) notes.push_back("Repeatable.");
    for (const auto& n : notes) out += ".br\n" + roff(n) + "\n";
  }
  return out;
}

std::vector<const CLI::Option*> positionals(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !o->get_group().empty() && !o->nonpositional(); });
}

// "hydra keys new [OPTIONS] NAME" (roff).
std::string synopsis(const std::string& path, const CLI::App& app) {
  std::string out = "\\fB" + roff(path) + "\\fR";
  if (!visible_options(app).empty()) out += " [\\fIOPTIONS\\fR]";
  for (const auto* p : positionals(app)) {
    std::string arg = "\\fI" + roff(p->get_name(true)) + "\\fR" + (p->get_expected_max() > 1 ? " ..." : "");
    out += " " + (p->get_required() ? arg : "[" + arg + "]");
  }
  if (!visible_subcommands(app).empty()) out += " \\fICOMMAND\\fR";
  return out;
}

std::string arguments_list(const CLI::App& app) {
  std::string out;
  for (const auto* p : positionals(app))
    out += ".TP\n\\fI" + roff(p->get_name(true)) + "\\fR\n" + roff(p->get_description()) + "\n";
  return out;
}

// The .TH line and NAME: "name \- the description's first line" (what whatis and apropos read).
std::string header(const std::string& title, const std::string& name, const std::string& description) {
  return fmt::format(".TH \"{}\" \"1\" \"\" \"hydra {}\" \"Hydra Manual\"\n.SH NAME\n{} \\- {}\n", roff(title),
                     kVersion, roff(name), roff(description.substr(0, description.find('\n'))));
}

// A sub-command's sub-commands (`keys new`), each with its synopsis, text and options.
std::string nested_commands(const std::string& path, const CLI::App& app) {
  std::string out;
  for (const auto* sub : visible_subcommands(app)) {
    std::string sub_path = path + " " + sub->get_name();
    out += ".SS \"" + roff(sub_path) + "\"\n" + synopsis(sub_path, *sub) + "\n.PP\n" + roff_lines(sub->get_description());
    out += arguments_list(*sub) + options_list(*sub);
    out += nested_commands(sub_path, *sub);
  }
  return out;
}

constexpr const char* kAbout =
    "Hydra puts several Ollama (and llama.cpp) servers behind one URL. Clients of the Ollama and OpenAI APIs "
    "point at it unchanged; it sends each request to a node that has the model loaded and room for it, streams "
    "the reply back, fails over to another node, queues when the fleet is busy, and caches answers. "
    "hydra serve runs the gateway; hydra agent reports a node's GPUs and memory to it.";

// Plain text (roff_lines escapes it). Where the Debian package puts things (packaging/, cmake/packaging.cmake).
constexpr const char* kFiles =
    "/etc/hydra/hydra.toml: the configuration hydra.service reads (every setting, commented, at its default).\n"
    "/etc/default/hydra-agent: the arguments of hydra-agent.service.\n"
    "/var/lib/hydra: the gateway's data (HYDRA_DATA_DIR).";

std::string man_root(const CLI::App& root) {
  std::string out = header("HYDRA", "hydra", "one endpoint for a fleet of Ollama and llama.cpp servers");
  out += ".SH SYNOPSIS\n\\fBhydra\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n";
  out += ".SH DESCRIPTION\n" + roff_lines(kAbout);
  out += ".PP\nEach command has its own page, and prints its options with \\fB\\-\\-help\\fR.\n";
  out += ".SH COMMANDS\n";
  for (const auto* sub : visible_subcommands(root))
    out += ".TP\n\\fB" + roff(sub->get_name()) + "\\fR\n" + roff(sub->get_description()) + "\n";
  out += ".SH OPTIONS\n" + options_list(root);
  out += ".SH EXIT STATUS\n0 on success, 1 on failure, 2 on a usage error.\n";
  out += ".SH FILES\n" + roff_lines(kFiles);
  out += ".SH SEE ALSO\n";
  auto subs = visible_subcommands(root);
  for (size_t i = 0; i < subs.size(); ++i)
    out += ".BR \\%hydra\\-" + roff(subs[i]->get_name()) + " (1)" + (i + 1 < subs.size() ? "," : "") + "\n";
  return out;
}

std::string man_sub(const CLI::App& sub) {
  std::string path = "hydra " + sub.get_name();
  std::string title = "HYDRA-" + sub.get_name();  // upper case, as man pages have it
  for (auto& c : title) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string out = header(title, "hydra-" + sub.get_name(), sub.get_description());
  out += ".SH SYNOPSIS\n" + synopsis(path, sub) + "\n";
  out += ".SH DESCRIPTION\n" + roff_lines(sub.get_description());
  if (auto footer = sub.get_footer(); !footer.empty()) out += ".PP\n" + roff_lines(footer);
  if (auto args = arguments_list(sub); !args.empty()) out += ".SH ARGUMENTS\n" + args;
  if (auto opts = options_list(sub); !opts.empty()) out += ".SH OPTIONS\n" + opts;
  if (auto nested = nested_commands(path, sub); !nested.empty()) out += ".SH COMMANDS\n" + nested;
  out += ".SH SEE ALSO\n.BR hydra (1)\n";
  return out;
}

// The bash script: for each command path ("", "keys", "keys new"), the words that may follow
// (sub-commands, long options) and the options that take a value (then: file names).
void collect(const CLI::App& app, const std::string& path, std::string& cases, std::string& valued,
             std::string& paths) {
  std::string words;
  std::string with_value;
  for (const auto* sub : visible_subcommands(app)) words += (words.empty() ? "" : " ") + sub->get_name();
  for (const auto* o : visible_options(app)) {
    for (const auto& l : o->get_lnames()) {
      words += (words.empty() ? "" : " ") + ("--" + l);
      if (takes_value(*o)) with_value += (with_value.empty() ? "" : "|") + ("--" + l);
    }
  }
  cases += fmt::format("    '{}') words='{}' ;;\n", path, words);
  if (!with_value.empty()) valued += fmt::format("    '{}') case \"$prev\" in {}) return 0 ;; esac ;;\n", path, with_value);
  for (const auto* sub : visible_subcommands(app)) {
    std::string sub_path = path.empty() ? sub->get_name() : path + " " + sub->get_name();
    paths += fmt::format("'{} {}'|", path, sub->get_name());
    collect(*sub, sub_path, cases, valued, paths);
  }
}

std::string bash_completion(const CLI::App& root) {
  std::string cases, valued, paths;
  collect(root, "", cases, valued, paths);
  if (!paths.empty()) paths.pop_back();
  return fmt::format(R"(# bash completion for hydra, generated by `hydra completion bash` (hydra {0})
_hydra() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}" path="" words="" i
  COMPREPLY=()
  # The command path so far: the words before the cursor that name a sub-command.
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "$path ${{COMP_WORDS[i]}}" in
      {1}) path="${{path:+$path }}${{COMP_WORDS[i]}}" ;;
    esac
  done
  # After an option that takes a value: no words, so bash completes file names (-o default).
  case "$path" in
{2}  esac
  case "$path" in
{3}  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -o default -F _hydra hydra
)",
                     kVersion, paths, valued, cases);
}

int print_man(const CLI::App& root, const std::string& name, bool list) {
  if (list) {
    for (const auto* sub : visible_subcommands(root)) fmt::print("{}\n", sub->get_name());
    return 0;
  }
  if (name.empty()) {
    fmt::print("{}", man_root(root));
    return 0;
  }
  for (const auto* sub : visible_subcommands(root)) {
    if (sub->get_name() == name) {
      fmt::print("{}", man_sub(*sub));
      return 0;
    }
  }
  fmt::print(stderr, "hydra man: no sub-command \"{}\" (hydra man --list names them)\n", name);
  return 2;
}

}  // namespace

void add_docs_commands(CLI::App& app, std::function<int()>& run) {
  struct Flags {
    std::string name;
    bool list = false;
    std::string shell;
  };
  auto flags = std::make_shared<Flags>();
  auto* man = app.add_subcommand("man", "print a man page (roff): hydra(1), or hydra-SUBCOMMAND(1)")->group("");
  man->add_option("subcommand", flags->name, "the sub-command whose page to print");
  man->add_flag("--list", flags->list, "print the sub-commands that have a page, one a line");
  man->callback([&run, &app, flags] { run = [&app, flags] { return print_man(app, flags->name, flags->list); }; });

  auto* completion = app.add_subcommand("completion", "print a shell completion script")->group("");
  completion->add_option("shell", flags->shell, "the shell (bash)")->required()->check(CLI::IsMember({"bash"}));
  completion->callback([&run, &app] {
    run = [&app] {
      fmt::print("{}", bash_completion(app));
      return 0;
    };
  });
}

}  // namespace hydra::app
