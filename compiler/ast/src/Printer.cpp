// The canonical printer behind `omegac fmt`, and the structural dump that checks it keeps meaning.
#include "omega/ast/Printer.h"

#include <algorithm>
#include <sstream>

namespace omega::ast {

namespace {

constexpr std::size_t kWidth = 100;
const std::string kIndent = "    ";

bool isDurationUnit(const std::string& u) {
    static const char* units[] = {"ns", "us", "ms", "s", "m", "min", "h", "d"};
    return std::any_of(std::begin(units), std::end(units), [&](const char* x) { return u == x; });
}

int precedence(const Expr& e) {
    if (e.kind == Expr::Kind::Binary) {
        if (e.op == BinOp::Or) return 1;
        if (e.op == BinOp::And) return 2;
        return 4;
    }
    if (e.kind == Expr::Kind::Not) return 3;
    if (e.kind == Expr::Kind::Has) return 4;
    return 5;
}

std::string joined(const std::vector<Ident>& ids, const char* sep) {
    std::string out;
    for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? sep : "") + ids[i].text;
    return out;
}

std::string wrap(const Expr& e, int needed) {
    std::string s = exprText(e);
    return precedence(e) < needed ? "(" + s + ")" : s;
}

}  // namespace

std::string quoteString(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default: out += c;
        }
    }
    return out + "\"";
}

std::string exprText(const Expr& e) {
    switch (e.kind) {
        case Expr::Kind::String: return quoteString(e.text);
        case Expr::Kind::Int: return std::to_string(e.number);
        case Expr::Kind::Bool: return e.number ? "true" : "false";
        case Expr::Kind::Quantity: return std::to_string(e.number) + (isDurationUnit(e.text) ? "" : " ") + e.text;
        case Expr::Kind::Hash: return e.algorithm.text + ":" + quoteString(e.text);
        case Expr::Kind::Path: return joined(e.path, ".");
        case Expr::Kind::Set: {
            std::string out = "{";
            for (std::size_t i = 0; i < e.kids.size(); ++i) out += (i ? ", " : "") + exprText(*e.kids[i]);
            return out + "}";
        }
        case Expr::Kind::Not: return "not " + wrap(*e.kids[0], 3);
        case Expr::Kind::Has: return e.path[0].text + " has " + e.path[1].text;
        case Expr::Kind::Binary: {
            int p = precedence(e);
            if (p == 4) return wrap(*e.kids[0], 5) + " " + binOpText(e.op) + " " + wrap(*e.kids[1], 5);
            // An `and` kid of an `and` node was parenthesised in the source (see the INVARIANT on Expr::kids).
            std::string out;
            for (std::size_t i = 0; i < e.kids.size(); ++i)
                out += (i ? std::string(" ") + binOpText(e.op) + " " : "") + wrap(*e.kids[i], p + 1);
            return out;
        }
    }
    return "";
}

namespace {

std::string patternText(const NamePattern& p) {
    return p.text();
}

std::string agentText(const AgentPattern& a) {
    switch (a.kind) {
        case AgentPattern::Kind::Any: return "agent *";
        case AgentPattern::Kind::Named: return "agent " + a.names[0].text;
        case AgentPattern::Kind::List: return "agent {" + joined(a.names, ", ") + "}";
        case AgentPattern::Kind::Group: return "group " + a.names[0].text;
    }
    return "";
}

std::string obligationText(const Obligation& o) {
    std::string out = o.name.text;
    if (o.hasParens) {
        out += "(";
        for (std::size_t i = 0; i < o.args.size(); ++i) out += (i ? ", " : "") + exprText(*o.args[i]);
        out += ")";
    }
    return out;
}

std::string obligationsText(const std::vector<Obligation>& obs) {
    std::string out = "obligation ";
    for (std::size_t i = 0; i < obs.size(); ++i) out += (i ? ", " : "") + obligationText(obs[i]);
    return out;
}

std::string limitText(const RateLimit& l) {
    std::string out = "limit " + std::to_string(l.count) + " per ";
    if (l.durationWindow) {
        out += std::to_string(l.windowCount) + (isDurationUnit(l.windowUnit.text) ? "" : " ") + l.windowUnit.text;
    } else {
        out += l.windowUnit.text;
    }
    if (l.key) out += " per " + l.key->text;
    return out;
}

std::string scopeText(const ScopeItem& s) {
    switch (s.kind) {
        case ScopeItem::Kind::Tool: return "tool " + patternText(s.pattern);
        case ScopeItem::Kind::Data: return "data " + patternText(s.pattern);
        case ScopeItem::Kind::Agent: return "agent " + patternText(s.pattern);
        case ScopeItem::Kind::Area: return s.area.text;
    }
    return "";
}

// `tool ehr.read by agent triage to agent x` (without the condition)
std::string bodyHead(const Body& b) {
    std::string out = actionName(b.action);
    if (b.target) out += " " + patternText(*b.target);
    if (b.subject) out += std::string(b.subjectFrom ? " from " : " by ") + agentText(*b.subject);
    if (b.recipient) out += " to " + agentText(*b.recipient);
    return out;
}

class Printer {
public:
    explicit Printer(const Module& m) : m_(m) {}

    std::string run() {
        comments_ = m_.comments;
        std::sort(comments_.begin(), comments_.end(),
                  [](const Comment& a, const Comment& b) { return a.span.begin < b.span.begin; });
        header();
        for (const Item& item : m_.items) printItem(item);
        // Comments after the last item.
        commentsBefore({0xffffffffu, 0}, "");
        std::string text = out_.str();
        while (text.size() > 1 && text[text.size() - 1] == '\n' && text[text.size() - 2] == '\n') text.pop_back();
        return text;
    }

private:
    void line(const std::string& indent, const std::string& text) { out_ << indent << text; }

    void blankIfGap(std::uint32_t nextLine) {
        if (started_ && lastLine_ && nextLine > lastLine_ + 1) out_ << '\n';
    }

    // Emits own-line comments that begin before `p`, at the given indent.
    void commentsBefore(source::Position p, const std::string& indent) {
        while (next_ < comments_.size() && comments_[next_].span.begin < p) {
            const Comment& c = comments_[next_++];
            blankIfGap(c.span.begin.line);
            out_ << indent << c.text << '\n';
            started_ = true;
            lastLine_ = c.span.end.line;
        }
    }

    // Appends comments that begin on `line` (after the node just printed) as trailing comments, then ends the line.
    void endLine(std::uint32_t srcLine) {
        while (next_ < comments_.size() && comments_[next_].span.begin.line == srcLine) {
            out_ << ' ' << comments_[next_].text;
            lastLine_ = std::max(lastLine_, comments_[next_].span.end.line);
            ++next_;
        }
        out_ << '\n';
    }

    void begin(const Span& span, const std::string& indent) {
        commentsBefore(span.begin, indent);
        blankIfGap(span.begin.line);
        started_ = true;
        lastLine_ = span.begin.line;
    }
    void finish(const Span& span) {
        endLine(span.end.line);
        lastLine_ = std::max(lastLine_, span.end.line);
    }

    // Comments strictly inside a node that the printer cannot place next to a sub-part are moved before it.
    void hoistInterior(const Span& span, const std::string& indent) {
        while (next_ < comments_.size() && comments_[next_].span.begin < span.end) {
            out_ << indent << comments_[next_].text << '\n';
            ++next_;
        }
    }

    void header() {
        const Header& h = m_.header;
        begin(h.span, "");
        hoistInterior(h.span, "");
        std::string head = "policy " + h.name.text + " version " + std::to_string(h.version) + " by principal " +
                           quoteString(h.principal);
        if (!h.governs.empty()) {
            std::string g = "governs ";
            for (std::size_t i = 0; i < h.governs.size(); ++i) g += (i ? ", " : "") + scopeText(h.governs[i]);
            if (head.size() + 1 + g.size() + 1 <= kWidth)
                head += " " + g;
            else
                head += "\n" + kIndent + g;
        }
        out_ << head << ';';
        finish(h.span);
    }

    void props(const std::vector<Property>& ps, const Span& blockSpan) {
        if (ps.empty()) {
            out_ << " {}";
            finish(blockSpan);
            return;
        }
        out_ << " {";
        endLine(blockSpan.begin.line);
        lastLine_ = blockSpan.begin.line;
        for (const Property& p : ps) {
            begin(p.span, kIndent);
            hoistInterior(p.span, kIndent);
            out_ << kIndent << p.key.text << ' ' << exprText(*p.value) << ';';
            finish(p.span);
        }
        commentsBefore(blockSpan.end, kIndent);
        out_ << '}';
        finish(blockSpan);
    }

    void printItem(const Item& item) {
        Span span = spanOf(item);
        begin(span, "");
        std::visit([&](const auto& node) { print(node); }, item);
    }

    void simple(const Span& span, const std::string& text) {
        hoistInterior(span, "");
        out_ << text;
        finish(span);
    }

    void print(const Import& i) { simple(i.span, "import " + quoteString(i.path) + ";"); }
    void print(const LabelDecl& l) { simple(l.span, "label " + joined(l.chain, " < ") + ";"); }
    void print(const AttributeDecl& a) {
        std::string t = a.type.name.text + (a.type.elem ? "<" + a.type.elem->text + ">" : "");
        simple(a.span, "attribute " + a.name.text + ": " + t + ";");
    }
    void print(const AgentDecl& a) {
        out_ << "agent " << a.name.text;
        props(a.props, a.span);
    }
    void print(const DataDecl& d) {
        out_ << "data " << d.name.text;
        props(d.props, d.span);
    }
    void print(const KernelsDecl& k) {
        out_ << "kernels " << k.name.text;
        props(k.props, k.span);
    }
    void print(const ToolDecl& t) {
        std::string s = "tool " + t.name.text() + "(";
        for (std::size_t i = 0; i < t.params.size(); ++i) {
            const Param& p = t.params[i];
            s += (i ? ", " : "") + p.name.text + ": " + p.type.name.text;
            if (p.type.elem) s += "<" + p.type.elem->text + ">";
        }
        s += ")";
        for (const ToolMod& mod : t.mods) {
            switch (mod.kind) {
                case ToolMod::Kind::Returns: s += " returns " + mod.name.text; break;
                case ToolMod::Kind::Sink: s += " sink"; break;
                case ToolMod::Kind::Pin: s += " pin " + exprText(*mod.value); break;
                case ToolMod::Kind::Flag: s += " " + mod.name.text; break;
            }
        }
        simple(t.span, s + ";");
    }
    void print(const SetDecl& s) { simple(s.span, "set " + s.name.text + " = " + exprText(*s.value) + ";"); }
    void print(const GroupDecl& g) { simple(g.span, "group " + g.name.text + " = {" + joined(g.members, ", ") + "};"); }
    void print(const ConsentDecl& c) { simple(c.span, "require consent for " + scopeText(c.target) + ";"); }

    // A rule-shaped statement: head, then clauses; on one line when it fits, else one clause per line.
    void clauses(const std::string& head, const Expr* condition, const std::vector<std::string>& tail,
                 const Span& span) {
        hoistInterior(span, "");
        std::string oneLine = head;
        if (condition) oneLine += " when " + exprText(*condition);
        for (const std::string& t : tail) oneLine += " " + t;
        if (oneLine.size() + 1 <= kWidth) {
            out_ << oneLine << ';';
            finish(span);
            return;
        }
        out_ << head;
        if (condition) {
            std::string when = kIndent + "when " + exprText(*condition);
            if (when.size() <= kWidth) {
                out_ << '\n' << when;
            } else {
                // Break at the top-level `and` / `or` chain, one operand per line.
                const Expr& c = *condition;
                bool chain = c.kind == Expr::Kind::Binary && (c.op == BinOp::And || c.op == BinOp::Or);
                if (!chain) {
                    out_ << '\n' << when;
                } else {
                    int p = c.op == BinOp::Or ? 1 : 2;
                    out_ << '\n' << kIndent << "when " << wrap(*c.kids[0], p + 1);
                    for (std::size_t i = 1; i < c.kids.size(); ++i)
                        out_ << '\n' << kIndent << kIndent << binOpText(c.op) << ' ' << wrap(*c.kids[i], p + 1);
                }
            }
        }
        for (const std::string& t : tail) out_ << '\n' << kIndent << t;
        out_ << ';';
        finish(span);
    }

    void print(const Rule& r) {
        std::vector<std::string> tail;
        if (r.limit) tail.push_back(limitText(*r.limit));
        if (!r.obligations.empty()) tail.push_back(obligationsText(r.obligations));
        std::string head = std::string(r.effect == Effect::Permit ? "permit " : "forbid ") + bodyHead(r.body);
        clauses(head, r.body.condition.get(), tail, r.span);
    }
    void print(const ObligationRule& r) {
        std::string head = "require ";
        for (std::size_t i = 0; i < r.obligations.size(); ++i)
            head += (i ? ", " : "") + obligationText(r.obligations[i]);
        clauses(head + " for " + bodyHead(r.body), r.body.condition.get(), {}, r.span);
    }
    void print(const Assertion& a) {
        std::string head = std::string("assert ") + (a.never ? "never " : "always ") +
                           (a.permitVerdict ? "permit " : "deny ") + bodyHead(a.body);
        clauses(head, a.body.condition.get(), {}, a.span);
    }
    void print(const TestBlock& t) {
        out_ << "test " << quoteString(t.name) << " {";
        endLine(t.span.begin.line);
        lastLine_ = t.span.begin.line;
        for (const TestStmt& s : t.stmts) {
            std::visit([&](const auto& st) { testStmt(st); }, s);
        }
        commentsBefore(t.span.end, kIndent);
        out_ << '}';
        finish(t.span);
    }
    void testStmt(const TestAssign& a) {
        begin(a.span, kIndent);
        hoistInterior(a.span, kIndent);
        out_ << kIndent << joined(a.path, ".") << " = " << exprText(*a.value) << ';';
        finish(a.span);
    }
    void testStmt(const TestRequest& r) {
        begin(r.span, kIndent);
        hoistInterior(r.span, kIndent);
        std::string s = std::string("request ") + actionName(r.body.action);
        if (r.body.target) s += " " + patternText(*r.body.target);
        if (r.hasArgs) {
            s += "(";
            for (std::size_t i = 0; i < r.args.size(); ++i)
                s += (i ? ", " : "") + r.args[i].name.text + ": " + exprText(*r.args[i].value);
            s += ")";
        }
        if (r.body.subject) s += std::string(r.body.subjectFrom ? " from " : " by ") + agentText(*r.body.subject);
        if (r.body.recipient) s += " to " + agentText(*r.body.recipient);
        out_ << kIndent << s << ';';
        finish(r.span);
    }
    void testStmt(const TestExpect& e) {
        begin(e.span, kIndent);
        hoistInterior(e.span, kIndent);
        std::string s = std::string("expect ") + (e.allow ? "allow" : "deny");
        if (!e.obligations.empty()) s += " " + obligationsText(e.obligations);
        out_ << kIndent << s << ';';
        finish(e.span);
    }

    const Module& m_;
    std::vector<Comment> comments_;
    std::size_t next_ = 0;
    std::ostringstream out_;
    std::uint32_t lastLine_ = 0;
    bool started_ = false;
};

// ---------------------------------------------------------------------------------------------------------------
// Dump

class Dumper {
public:
    std::ostringstream out;

    void expr(const Expr& e) {
        switch (e.kind) {
            case Expr::Kind::String: out << "(str " << quoteString(e.text) << ")"; return;
            case Expr::Kind::Int: out << "(int " << e.number << ")"; return;
            case Expr::Kind::Bool: out << (e.number ? "(true)" : "(false)"); return;
            case Expr::Kind::Quantity: out << "(qty " << e.number << " " << e.text << ")"; return;
            case Expr::Kind::Hash: out << "(hash " << e.algorithm.text << " " << e.text << ")"; return;
            case Expr::Kind::Path: out << "(path " << joined(e.path, ".") << ")"; return;
            case Expr::Kind::Set:
                out << "(set";
                for (const auto& k : e.kids) {
                    out << ' ';
                    expr(*k);
                }
                out << ")";
                return;
            case Expr::Kind::Not:
                out << "(not ";
                expr(*e.kids[0]);
                out << ")";
                return;
            case Expr::Kind::Has: out << "(has " << e.path[0].text << ' ' << e.path[1].text << ")"; return;
            case Expr::Kind::Binary:
                out << "(" << binOpText(e.op);
                for (const auto& k : e.kids) {
                    out << ' ';
                    expr(*k);
                }
                out << ")";
                return;
        }
    }
    void agent(const AgentPattern& a) {
        out << "(agents " << static_cast<int>(a.kind) << ' ' << joined(a.names, ",") << ")";
    }
    void body(const Body& b) {
        out << "(body " << actionName(b.action);
        if (b.target) out << " (target " << b.target->text() << ")";
        if (b.subject) {
            out << (b.subjectFrom ? " (from " : " (by ");
            agent(*b.subject);
            out << ")";
        }
        if (b.recipient) {
            out << " (to ";
            agent(*b.recipient);
            out << ")";
        }
        if (b.condition) {
            out << " (when ";
            expr(*b.condition);
            out << ")";
        }
        out << ")";
    }
    void obligations(const std::vector<Obligation>& obs) {
        for (const Obligation& o : obs) {
            out << " (obligation " << o.name.text << (o.hasParens ? "()" : "");
            for (const auto& a : o.args) {
                out << ' ';
                expr(*a);
            }
            out << ")";
        }
    }
    void props(const std::vector<Property>& ps) {
        for (const Property& p : ps) {
            out << " (" << p.key.text << ' ';
            expr(*p.value);
            out << ")";
        }
    }
    void scope(const ScopeItem& s) {
        out << "(scope " << static_cast<int>(s.kind) << ' ' << s.pattern.text() << s.area.text << ")";
    }
    void item(const Import& i) { out << "(import " << quoteString(i.path) << ")"; }
    void item(const LabelDecl& l) { out << "(label " << joined(l.chain, "<") << ")"; }
    void item(const AttributeDecl& a) {
        out << "(attribute " << a.name.text << ' ' << a.type.name.text
            << (a.type.elem ? "<" + a.type.elem->text + ">" : "") << ")";
    }
    void item(const AgentDecl& a) {
        out << "(agent " << a.name.text;
        props(a.props);
        out << ")";
    }
    void item(const DataDecl& d) {
        out << "(data " << d.name.text;
        props(d.props);
        out << ")";
    }
    void item(const KernelsDecl& k) {
        out << "(kernels " << k.name.text;
        props(k.props);
        out << ")";
    }
    void item(const ToolDecl& t) {
        out << "(tool " << t.name.text();
        for (const Param& p : t.params)
            out << " (param " << p.name.text << ' ' << p.type.name.text
                << (p.type.elem ? "<" + p.type.elem->text + ">" : "") << ")";
        for (const ToolMod& m : t.mods) {
            out << " (mod " << static_cast<int>(m.kind) << ' ' << m.name.text;
            if (m.value) {
                out << ' ';
                expr(*m.value);
            }
            out << ")";
        }
        out << ")";
    }
    void item(const SetDecl& s) {
        out << "(set " << s.name.text << ' ';
        expr(*s.value);
        out << ")";
    }
    void item(const GroupDecl& g) { out << "(group " << g.name.text << ' ' << joined(g.members, ",") << ")"; }
    void item(const ConsentDecl& c) {
        out << "(consent ";
        scope(c.target);
        out << ")";
    }
    void item(const Rule& r) {
        out << (r.effect == Effect::Permit ? "(permit " : "(forbid ");
        body(r.body);
        if (r.limit) {
            out << " (limit " << r.limit->count << ' ' << r.limit->durationWindow << ' ' << r.limit->windowCount << ' '
                << r.limit->windowUnit.text;
            if (r.limit->key) out << " per " << r.limit->key->text;
            out << ")";
        }
        obligations(r.obligations);
        out << ")";
    }
    void item(const ObligationRule& r) {
        out << "(require";
        obligations(r.obligations);
        out << ' ';
        body(r.body);
        out << ")";
    }
    void item(const Assertion& a) {
        out << "(assert " << (a.never ? "never " : "always ") << (a.permitVerdict ? "permit " : "deny ");
        body(a.body);
        out << ")";
    }
    void item(const TestBlock& t) {
        out << "(test " << quoteString(t.name);
        for (const TestStmt& s : t.stmts) {
            out << "\n  ";
            if (auto* a = std::get_if<TestAssign>(&s)) {
                out << "(assign " << joined(a->path, ".") << ' ';
                expr(*a->value);
                out << ")";
            }
            if (auto* r = std::get_if<TestRequest>(&s)) {
                out << "(request ";
                body(r->body);
                if (r->hasArgs) out << " (args";
                for (const TestArg& a : r->args) {
                    out << " (" << a.name.text << ' ';
                    expr(*a.value);
                    out << ")";
                }
                if (r->hasArgs) out << ")";
                out << ")";
            }
            if (auto* e = std::get_if<TestExpect>(&s)) {
                out << "(expect " << (e->allow ? "allow" : "deny");
                obligations(e->obligations);
                out << ")";
            }
        }
        out << ")";
    }
};

}  // namespace

std::string format(const Module& module) {
    return Printer(module).run();
}

std::string dump(const Module& m) {
    Dumper d;
    d.out << "(policy " << m.header.name.text << ' ' << m.header.version << ' ' << quoteString(m.header.principal);
    for (const ScopeItem& s : m.header.governs) {
        d.out << ' ';
        d.scope(s);
    }
    d.out << ")\n";
    for (const Item& item : m.items) {
        std::visit([&](const auto& node) { d.item(node); }, item);
        d.out << '\n';
    }
    return d.out.str();
}

std::string dump(const Expr& e) {
    Dumper d;
    d.expr(e);
    return d.out.str();
}

}  // namespace omega::ast
