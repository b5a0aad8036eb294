// Builds the AST from ANTLR's parse tree, with a span on every node. Reports the syntax mistakes the grammar is
// deliberately loose about (actions, number ranges, escapes, hash literals) so their messages can be specific.
#include "Converter.h"

#include <limits>

namespace omega::parse {

using namespace omega::ast;
using source::DiagnosticEngine;
using source::FileId;
using source::Position;

namespace {

class Converter {
public:
    Converter(FileId file, DiagnosticEngine& diags, const source::Limits& limits)
        : file_(file), diags_(diags), limits_(limits) {}

    bool failed = false;

    Span tokenSpan(antlr4::Token* t) const {
        Position begin{static_cast<std::uint32_t>(t->getLine()),
                       static_cast<std::uint32_t>(t->getCharPositionInLine() + 1)};
        Position end = begin;
        for (unsigned char c : t->getText()) {
            if ((c & 0xC0) == 0x80) continue;
            if (c == '\n') {
                ++end.line;
                end.col = 1;
            } else {
                ++end.col;
            }
        }
        return {file_, begin, end};
    }
    Span span(antlr4::ParserRuleContext* ctx) const {
        Span s = tokenSpan(ctx->getStart());
        antlr4::Token* stop = ctx->getStop();
        if (stop && stop->getType() != antlr4::Token::EOF && stop->getTokenIndex() >= ctx->getStart()->getTokenIndex())
            s.end = tokenSpan(stop).end;
        return s;
    }
    Span join(Span a, Span b) const { return {a.file, a.begin, b.end}; }

    Ident ident(antlr4::tree::TerminalNode* node) const { return {node->getText(), tokenSpan(node->getSymbol())}; }
    Ident ident(antlr4::ParserRuleContext* ctx) const { return {ctx->getText(), span(ctx)}; }

    void error(const std::string& code, Span s, const std::string& message, const std::string& label = {},
               const std::string& help = {}) {
        auto& d = diags_.error(code, s, message, label);
        d.help = help;
        failed = true;
    }

    std::int64_t integer(antlr4::tree::TerminalNode* node) {
        const std::string text = node->getText();
        std::int64_t value = 0;
        for (char c : text) {
            int digit = c - '0';
            if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) {
                error("E0011", tokenSpan(node->getSymbol()), "integer literal `" + text + "` is too large",
                      "does not fit in 64 bits", "the largest integer is 9223372036854775807");
                return 0;
            }
            value = value * 10 + digit;
        }
        return value;
    }

    std::string stringValue(antlr4::tree::TerminalNode* node) {
        const std::string raw = node->getText();
        std::string out;
        Span s = tokenSpan(node->getSymbol());
        for (std::size_t i = 1; i + 1 < raw.size(); ++i) {
            char c = raw[i];
            if (c != '\\') {
                out += c;
                continue;
            }
            char e = raw[++i];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                default: {
                    Span es = s;
                    // Columns count code points: skip UTF-8 continuation bytes before the backslash.
                    for (std::size_t k = 0; k + 1 < i; ++k)
                        if ((static_cast<unsigned char>(raw[k]) & 0xC0) != 0x80) ++es.begin.col;
                    es.end = {es.begin.line, es.begin.col + 2};
                    error("E0012", es, std::string("unknown escape sequence `\\") + e + "` in string", "unknown escape",
                          "the escapes are \\\" \\\\ \\n \\t and \\r");
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Expressions

    ExprPtr expr(OmegaParser::ExprContext* ctx, std::size_t depth) {
        if (depth > 4 * limits_.maxNesting) {
            error("E0008", span(ctx),
                  "expression is nested deeper than " + std::to_string(limits_.maxNesting) + " levels",
                  "too deep here");
            return nullptr;
        }
        if (auto* c = dynamic_cast<OmegaParser::AndExprContext*>(ctx)) return chain(c, BinOp::And, depth);
        if (auto* c = dynamic_cast<OmegaParser::OrExprContext*>(ctx)) return chain(c, BinOp::Or, depth);
        if (auto* c = dynamic_cast<OmegaParser::NotExprContext*>(ctx)) {
            auto e = std::make_unique<Expr>();
            e->kind = Expr::Kind::Not;
            e->span = span(c);
            auto kid = expr(c->expr(), depth + 1);
            if (!kid) return nullptr;
            e->kids.push_back(std::move(kid));
            return e;
        }
        if (auto* c = dynamic_cast<OmegaParser::CmpExprContext*>(ctx)) {
            auto e = std::make_unique<Expr>();
            e->kind = Expr::Kind::Binary;
            e->span = span(c);
            static const std::pair<const char*, BinOp> ops[] = {
                {"==", BinOp::Eq}, {"!=", BinOp::Ne},     {"<", BinOp::Lt},
                {"<=", BinOp::Le}, {">", BinOp::Gt},      {">=", BinOp::Ge},
                {"in", BinOp::In}, {"like", BinOp::Like}, {"startswith", BinOp::StartsWith}};
            for (auto& [text, op] : ops)
                if (c->op->getText() == text) e->op = op;
            auto l = operand(c->operand(0), depth + 1);
            auto r = operand(c->operand(1), depth + 1);
            if (!l || !r) return nullptr;
            e->kids.push_back(std::move(l));
            e->kids.push_back(std::move(r));
            return e;
        }
        if (auto* c = dynamic_cast<OmegaParser::AtomExprContext*>(ctx)) return operand(c->operand(), depth + 1);
        if (auto* c = dynamic_cast<OmegaParser::HasExprContext*>(ctx)) {
            auto e = std::make_unique<Expr>();
            e->kind = Expr::Kind::Has;
            e->span = span(c);
            e->path = {ident(c->pathRoot()), ident(c->anyName())};
            return e;
        }
        error("E0900", span(ctx), "internal error: unknown expression form");
        return nullptr;
    }

    // `a and b and c` parses left-deep; walk the spine iteratively and build one n-ary node, so long chains cost
    // no stack here or in any later stage.
    template <typename Ctx>
    ExprPtr chain(Ctx* top, BinOp op, std::size_t depth) {
        std::vector<Ctx*> spine;
        OmegaParser::ExprContext* cur = top;
        while (auto* c = dynamic_cast<Ctx*>(cur)) {
            spine.push_back(c);
            cur = c->expr(0);
            if (spine.size() + 1 > limits_.maxChain) {
                error("E0008", span(top),
                      std::string("condition joins more than ") + std::to_string(limits_.maxChain) + " terms with `" +
                          binOpText(op) + "`",
                      "too long", "use a named set and `in` instead of long chains of comparisons");
                return nullptr;
            }
        }
        auto e = std::make_unique<Expr>();
        e->kind = Expr::Kind::Binary;
        e->op = op;
        e->span = span(top);
        ExprPtr first = expr(cur, depth + 1);
        if (!first) return nullptr;
        e->kids.push_back(std::move(first));
        for (auto it = spine.rbegin(); it != spine.rend(); ++it) {
            auto rhs = expr((*it)->expr(1), depth + 1);
            if (!rhs) return nullptr;
            e->kids.push_back(std::move(rhs));
        }
        return e;
    }

    ExprPtr operand(OmegaParser::OperandContext* ctx, std::size_t depth) {
        auto e = std::make_unique<Expr>();
        e->span = span(ctx);
        if (auto* c = dynamic_cast<OmegaParser::ParenOperandContext*>(ctx)) {
            auto inner = expr(c->expr(), depth + 1);
            return inner;
        }
        if (auto* c = dynamic_cast<OmegaParser::SetOperandContext*>(ctx)) {
            e->kind = Expr::Kind::Set;
            for (auto* x : c->expr()) {
                auto k = expr(x, depth + 1);
                if (!k) return nullptr;
                e->kids.push_back(std::move(k));
            }
            return e;
        }
        if (auto* c = dynamic_cast<OmegaParser::StringOperandContext*>(ctx)) {
            e->kind = Expr::Kind::String;
            e->text = stringValue(c->STRING());
            return e;
        }
        if (auto* c = dynamic_cast<OmegaParser::NumberOperandContext*>(ctx)) {
            e->number = integer(c->INT());
            if (c->IDENT()) {
                e->kind = Expr::Kind::Quantity;
                e->text = c->IDENT()->getText();
                e->unitSpan = tokenSpan(c->IDENT()->getSymbol());
            } else {
                e->kind = Expr::Kind::Int;
            }
            return e;
        }
        if (auto* c = dynamic_cast<OmegaParser::BoolOperandContext*>(ctx)) {
            e->kind = Expr::Kind::Bool;
            e->number = c->getText() == "true" ? 1 : 0;
            return e;
        }
        if (auto* c = dynamic_cast<OmegaParser::HashOperandContext*>(ctx)) {
            e->kind = Expr::Kind::Hash;
            e->algorithm = ident(c->IDENT());
            e->text = stringValue(c->STRING());
            std::size_t want = e->algorithm.text == "sha256" ? 64 : e->algorithm.text == "sha384" ? 96 : 0;
            if (want == 0) {
                error("E0408", e->algorithm.span, "unknown hash algorithm `" + e->algorithm.text + "`",
                      "not a hash algorithm",
                      "hash literals are written `sha256:\"<64 hex digits>\"` or "
                      "`sha384:\"<96 hex digits>\"`");
            } else {
                bool hex = e->text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
                if (!hex || e->text.size() != want) {
                    error("E0408", span(c),
                          "`" + e->algorithm.text + "` digest must be " + std::to_string(want) +
                              " hexadecimal digits, found " + std::to_string(e->text.size()) + " characters" +
                              (hex ? "" : " that are not all hexadecimal"),
                          "invalid digest");
                }
                for (char& ch : e->text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            }
            return e;
        }
        if (auto* c = dynamic_cast<OmegaParser::PathOperandContext*>(ctx)) {
            e->kind = Expr::Kind::Path;
            e->path = path(c->path());
            return e;
        }
        error("E0900", span(ctx), "internal error: unknown operand form");
        return nullptr;
    }

    std::vector<Ident> path(OmegaParser::PathContext* ctx) {
        std::vector<Ident> out;
        out.push_back(ident(ctx->pathRoot()));
        for (auto* n : ctx->anyName()) out.push_back(ident(n));
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Patterns, bodies, clauses

    NamePattern pattern(OmegaParser::PatternContext* ctx) {
        NamePattern p;
        p.span = span(ctx);
        if (dynamic_cast<OmegaParser::AnyPatternContext*>(ctx)) {
            p.wildcard = true;
            return p;
        }
        auto* c = dynamic_cast<OmegaParser::NamePatternContext*>(ctx);
        p.parts.push_back(ident(c->leadName()));
        for (auto* n : c->anyName()) p.parts.push_back(ident(n));
        p.wildcard = c->getStop()->getText() == "*";
        return p;
    }

    AgentPattern agents(OmegaParser::AgentPatternContext* ctx) {
        AgentPattern a;
        a.span = span(ctx);
        if (dynamic_cast<OmegaParser::AnyAgentContext*>(ctx)) {
            a.kind = AgentPattern::Kind::Any;
        } else if (auto* c = dynamic_cast<OmegaParser::OneAgentContext*>(ctx)) {
            a.kind = AgentPattern::Kind::Named;
            a.names.push_back(ident(c->IDENT()));
        } else if (auto* c = dynamic_cast<OmegaParser::AgentListContext*>(ctx)) {
            a.kind = AgentPattern::Kind::List;
            for (auto* n : c->IDENT()) a.names.push_back(ident(n));
        } else if (auto* c = dynamic_cast<OmegaParser::GroupAgentsContext*>(ctx)) {
            a.kind = AgentPattern::Kind::Group;
            a.names.push_back(ident(c->IDENT()));
        }
        return a;
    }

    std::optional<Action> action(OmegaParser::ActionContext* ctx) {
        std::string text = ctx->getText();
        static const std::pair<const char*, Action> actions[] = {{"tool", Action::Tool},
                                                                 {"read", Action::Read},
                                                                 {"write", Action::Write},
                                                                 {"send", Action::Send},
                                                                 {"gpu.launch", Action::GpuLaunch},
                                                                 {"gpu.alloc", Action::GpuAlloc},
                                                                 {"net.connect", Action::NetConnect}};
        std::vector<std::string> names;
        for (auto& [name, a] : actions) {
            if (text == name) return a;
            names.push_back(name);
        }
        std::string help = "the actions are tool, read, write, send, gpu.launch, gpu.alloc and net.connect";
        if (auto near = source::closestMatch(text, names)) help = "did you mean `" + *near + "`?";
        error("E0214", span(ctx), "unknown action `" + text + "`", "not an action", help);
        return std::nullopt;
    }

    Body body(OmegaParser::BodyContext* ctx) {
        Body b;
        if (auto a = action(ctx->action())) b.action = *a;
        b.actionSpan = span(ctx->action());
        if (ctx->pattern()) b.target = pattern(ctx->pattern());
        if (ctx->subject()) {
            b.subject = agents(ctx->subject()->agentPattern());
            b.subjectFrom = ctx->subject()->dir->getText() == "from";
        }
        if (ctx->recipient()) b.recipient = agents(ctx->recipient()->agentPattern());
        if (ctx->expr()) b.condition = expr(ctx->expr(), 0);
        return b;
    }

    Obligation obligation(OmegaParser::ObligationContext* o) {
        Obligation ob;
        ob.name = ident(o->IDENT());
        ob.span = span(o);
        ob.hasParens = o->children.size() > 1;
        for (auto* x : o->expr()) {
            auto e = expr(x, 0);
            if (e) ob.args.push_back(std::move(e));
        }
        return ob;
    }

    std::vector<Obligation> obligations(OmegaParser::ObligationsContext* ctx) {
        std::vector<Obligation> out;
        if (!ctx) return out;
        for (auto* o : ctx->obligation()) out.push_back(obligation(o));
        return out;
    }

    RateLimit limit(OmegaParser::LimitClauseContext* ctx) {
        RateLimit l;
        l.span = span(ctx);
        l.count = integer(ctx->INT());
        if (auto* w = dynamic_cast<OmegaParser::DurationWindowContext*>(ctx->window())) {
            l.durationWindow = true;
            l.windowCount = integer(w->INT());
            if (w->IDENT()) {
                l.windowUnit = ident(w->IDENT());
            } else {
                error("E0407", span(w), "rate-limit window `" + w->getText() + "` has no unit", "needs a unit",
                      "write the window as a duration such as `30s` or `5 min`, or as `minute`");
                l.windowUnit = {"", span(w)};
            }
        } else if (auto* n = dynamic_cast<OmegaParser::NamedWindowContext*>(ctx->window())) {
            l.windowUnit = ident(n->IDENT());
        }
        if (ctx->anyName()) l.key = ident(ctx->anyName());
        return l;
    }

    ScopeItem scope(OmegaParser::ScopeItemContext* ctx) {
        ScopeItem s;
        s.span = span(ctx);
        if (auto* c = dynamic_cast<OmegaParser::ScopeTargetContext*>(ctx)) {
            std::string kind = c->kind->getText();
            s.kind = kind == "tool"   ? ScopeItem::Kind::Tool
                     : kind == "data" ? ScopeItem::Kind::Data
                                      : ScopeItem::Kind::Agent;
            s.pattern = pattern(c->pattern());
        } else if (auto* c = dynamic_cast<OmegaParser::ScopeAreaContext*>(ctx)) {
            s.kind = ScopeItem::Kind::Area;
            s.area = ident(c->IDENT());
            if (s.area.text != "gpu" && s.area.text != "net") {
                error("E0215", s.area.span, "unknown scope `" + s.area.text + "`", "not a scope",
                      "a principal governs `tool P`, `data P`, `agent P`, `gpu` or `net`");
            }
        }
        return s;
    }

    std::vector<Property> props(OmegaParser::PropBlockContext* ctx) {
        std::vector<Property> out;
        for (auto* p : ctx->prop()) {
            Property prop;
            prop.key = ident(p->anyName());
            prop.value = expr(p->expr(), 0);
            prop.span = span(p);
            if (prop.value) out.push_back(std::move(prop));
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Items

    std::optional<Item> item(OmegaParser::ItemContext* ctx) {
        if (auto* c = ctx->importDecl()) return Import{stringValue(c->STRING()), span(c)};
        if (auto* c = ctx->labelDecl()) {
            LabelDecl l;
            for (auto* n : c->IDENT()) l.chain.push_back(ident(n));
            l.span = span(c);
            return l;
        }
        if (auto* c = ctx->attributeDecl()) {
            AttributeDecl a;
            a.name = ident(c->anyName());
            a.type.span = span(c->typeRef());
            a.type.name = ident(c->typeRef()->anyName(0));
            if (c->typeRef()->anyName().size() > 1) a.type.elem = ident(c->typeRef()->anyName(1));
            a.span = span(c);
            return a;
        }
        if (auto* c = ctx->agentDecl()) return AgentDecl{ident(c->IDENT()), props(c->propBlock()), span(c)};
        if (auto* c = ctx->dataDecl()) return DataDecl{ident(c->IDENT()), props(c->propBlock()), span(c)};
        if (auto* c = ctx->kernelsDecl()) return KernelsDecl{ident(c->IDENT()), props(c->propBlock()), span(c)};
        if (auto* c = ctx->toolDecl()) {
            ToolDecl t;
            t.span = span(c);
            t.name.span = span(c->qualName());
            t.name.parts.push_back(ident(c->qualName()->leadName()));
            for (auto* n : c->qualName()->anyName()) t.name.parts.push_back(ident(n));
            for (auto* p : c->param()) {
                Param param;
                param.name = ident(p->anyName());
                param.span = span(p);
                param.type.span = span(p->typeRef());
                param.type.name = ident(p->typeRef()->anyName(0));
                if (p->typeRef()->anyName().size() > 1) param.type.elem = ident(p->typeRef()->anyName(1));
                t.params.push_back(std::move(param));
            }
            for (auto* m : c->toolMod()) {
                ToolMod mod;
                mod.span = span(m);
                if (auto* r = dynamic_cast<OmegaParser::ReturnsModContext*>(m)) {
                    mod.kind = ToolMod::Kind::Returns;
                    mod.name = ident(r->IDENT());
                } else if (dynamic_cast<OmegaParser::SinkModContext*>(m)) {
                    mod.kind = ToolMod::Kind::Sink;
                    mod.name = {"sink", mod.span};
                } else if (auto* p = dynamic_cast<OmegaParser::PinModContext*>(m)) {
                    mod.kind = ToolMod::Kind::Pin;
                    mod.name = {"pin", mod.span};
                    mod.value = expr(p->expr(), 0);
                    if (!mod.value) continue;
                } else if (auto* f = dynamic_cast<OmegaParser::FlagModContext*>(m)) {
                    mod.kind = ToolMod::Kind::Flag;
                    mod.name = ident(f->IDENT());
                }
                t.mods.push_back(std::move(mod));
            }
            return t;
        }
        if (auto* c = ctx->setDecl()) {
            SetDecl s{ident(c->IDENT()), expr(c->expr(), 0), span(c)};
            if (!s.value) return std::nullopt;
            return s;
        }
        if (auto* c = ctx->groupDecl()) {
            GroupDecl g;
            auto ids = c->IDENT();
            g.name = ident(ids[0]);
            for (std::size_t i = 1; i < ids.size(); ++i) g.members.push_back(ident(ids[i]));
            g.span = span(c);
            return g;
        }
        if (auto* c = ctx->consentDecl()) return ConsentDecl{scope(c->scopeItem()), span(c)};
        if (auto* c = ctx->obligationRule()) {
            ObligationRule r;
            for (auto* o : c->obligation()) r.obligations.push_back(obligation(o));
            r.body = body(c->body());
            r.span = span(c);
            return r;
        }
        if (auto* c = ctx->ruleDecl()) {
            Rule r;
            r.effect = c->effect->getText() == "permit" ? Effect::Permit : Effect::Forbid;
            r.body = body(c->body());
            if (c->limitClause()) r.limit = limit(c->limitClause());
            r.obligations = obligations(c->obligations());
            r.span = span(c);
            return r;
        }
        if (auto* c = ctx->assertion()) {
            Assertion a;
            a.never = c->quant->getText() == "never";
            a.permitVerdict = c->verdict->getText() == "permit";
            a.body = body(c->body());
            a.span = span(c);
            return a;
        }
        if (auto* c = ctx->testBlock()) {
            TestBlock t;
            t.name = stringValue(c->STRING());
            t.nameSpan = tokenSpan(c->STRING()->getSymbol());
            t.span = span(c);
            for (auto* s : c->testStmt()) {
                if (auto* a = dynamic_cast<OmegaParser::TestAssignContext*>(s)) {
                    TestAssign as{path(a->path()), expr(a->expr(), 0), span(a)};
                    if (as.value) t.stmts.emplace_back(std::move(as));
                } else if (auto* r = dynamic_cast<OmegaParser::TestRequestContext*>(s)) {
                    TestRequest req;
                    req.span = span(r);
                    if (auto act = action(r->action())) req.body.action = *act;
                    req.body.actionSpan = span(r->action());
                    if (r->pattern()) req.body.target = pattern(r->pattern());
                    if (r->subject()) {
                        req.body.subject = agents(r->subject()->agentPattern());
                        req.body.subjectFrom = r->subject()->dir->getText() == "from";
                    }
                    if (r->recipient()) req.body.recipient = agents(r->recipient()->agentPattern());
                    if (r->testArgs()) {
                        req.hasArgs = true;
                        for (auto* a : r->testArgs()->testArg()) {
                            TestArg arg{ident(a->anyName()), expr(a->expr(), 0), span(a)};
                            if (arg.value) req.args.push_back(std::move(arg));
                        }
                    }
                    t.stmts.emplace_back(std::move(req));
                } else if (auto* e = dynamic_cast<OmegaParser::TestExpectContext*>(s)) {
                    TestExpect ex;
                    ex.allow = e->verdict->getText() == "allow";
                    ex.obligations = obligations(e->obligations());
                    ex.span = span(e);
                    t.stmts.emplace_back(std::move(ex));
                }
            }
            return t;
        }
        error("E0900", span(ctx), "internal error: unknown item");
        return std::nullopt;
    }

    Header header(OmegaParser::HeaderContext* ctx) {
        Header h;
        h.name = ident(ctx->name());
        h.version = integer(ctx->INT());
        h.versionSpan = tokenSpan(ctx->INT()->getSymbol());
        h.principal = stringValue(ctx->STRING());
        h.principalSpan = tokenSpan(ctx->STRING()->getSymbol());
        if (ctx->governs())
            for (auto* s : ctx->governs()->scopeItem()) h.governs.push_back(scope(s));
        h.span = span(ctx);
        return h;
    }

private:
    FileId file_;
    DiagnosticEngine& diags_;
    const source::Limits& limits_;
};

}  // namespace

std::optional<Module> convertModule(OmegaParser::ModuleContext* tree, FileId file, std::vector<Comment> comments,
                                    DiagnosticEngine& diags, const source::Limits& limits) {
    Converter c(file, diags, limits);
    Module m;
    m.file = file;
    m.header = c.header(tree->header());
    for (auto* i : tree->item()) {
        if (auto item = c.item(i)) m.items.push_back(std::move(*item));
        if (diags.full()) return std::nullopt;
    }
    m.comments = std::move(comments);
    if (c.failed) return std::nullopt;
    return m;
}

}  // namespace omega::parse
