// The Omega policy language: concrete syntax. The parse tree this yields is turned into the typed AST by
// compiler/parse/src/Converter.cpp, which also produces most friendly syntax errors. docs/language.md is the spec.
grammar Omega;

// ---------------------------------------------------------------------------------------------------------------
// Modules

module      : header item* EOF ;
items       : item* EOF ;     // used to resume after a syntax error, at the next item
header      : 'policy' name 'version' INT 'by' 'principal' STRING governs? ';' ;
governs     : 'governs' scopeItem (',' scopeItem)* ;
scopeItem   : kind=('tool' | 'data' | 'agent') pattern   # scopeTarget
            | IDENT                                      # scopeArea
            ;

item        : importDecl | labelDecl | attributeDecl | agentDecl | toolDecl | dataDecl | kernelsDecl | setDecl | groupDecl
            | consentDecl | obligationRule | ruleDecl | assertion | testBlock ;

importDecl  : 'import' STRING ';' ;
labelDecl   : 'label' IDENT ('<' IDENT)* ';' ;
attributeDecl : 'attribute' anyName ':' typeRef ';' ;
agentDecl   : 'agent' IDENT propBlock ;
dataDecl    : 'data' IDENT propBlock ;
kernelsDecl : 'kernels' IDENT propBlock ;
propBlock   : '{' prop* '}' ;
prop        : anyName expr ';' ;
toolDecl    : 'tool' qualName '(' (param (',' param)*)? ')' toolMod* ';' ;
param       : anyName ':' typeRef ;
typeRef     : anyName ('<' anyName '>')? ;
toolMod     : 'returns' IDENT          # returnsMod
            | 'sink'                   # sinkMod
            | 'pin' expr               # pinMod
            | IDENT                    # flagMod
            ;
setDecl     : 'set' IDENT '=' expr ';' ;
groupDecl   : 'group' IDENT '=' '{' (IDENT (',' IDENT)*)? '}' ';' ;
consentDecl : 'require' 'consent' 'for' scopeItem ';' ;
obligationRule : 'require' obligation (',' obligation)* 'for' body ';' ;

// ---------------------------------------------------------------------------------------------------------------
// Rules, assertions and tests

ruleDecl    : effect=('permit' | 'forbid') body limitClause? obligations? ';' ;
assertion   : 'assert' quant=('never' | 'always') verdict=('permit' | 'deny') body ';' ;
body        : action pattern? subject? recipient? ('when' expr)? ;
action      : 'tool' | 'read' | 'write' | 'send' | IDENT ('.' IDENT)? ;
pattern     : '*'                                  # anyPattern
            | leadName ('.' anyName)* ('.' '*')?   # namePattern
            ;
subject     : dir=('by' | 'from') agentPattern ;
recipient   : 'to' agentPattern ;
agentPattern: 'agent' '*'                                   # anyAgent
            | 'agent' IDENT                                 # oneAgent
            | 'agent' '{' IDENT (',' IDENT)* '}'            # agentList
            | 'group' IDENT                                 # groupAgents
            ;
limitClause : 'limit' INT 'per' window ('per' anyName)? ;
window      : INT IDENT?        # durationWindow
            | IDENT             # namedWindow
            ;
obligations : 'obligation' obligation (',' obligation)* ;
obligation  : IDENT ('(' (expr (',' expr)*)? ')')? ;

testBlock   : 'test' STRING '{' testStmt* '}' ;
testStmt    : path '=' expr ';'                                                      # testAssign
            | 'request' action pattern? testArgs? subject? recipient? ';'            # testRequest
            | 'expect' verdict=('allow' | 'deny') obligations? ';'                   # testExpect
            ;
testArgs    : '(' (testArg (',' testArg)*)? ')' ;
testArg     : anyName ':' expr ;

// ---------------------------------------------------------------------------------------------------------------
// Expressions. In a left-recursive ANTLR rule the earlier alternative binds tighter: comparison, not, and, or

expr        : operand op=('==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'like' | 'startswith') operand  # cmpExpr
            | pathRoot 'has' anyName              # hasExpr
            | operand                             # atomExpr
            | 'not' expr                          # notExpr
            | expr 'and' expr                     # andExpr
            | expr 'or' expr                      # orExpr
            ;
operand     : '(' expr ')'                        # parenOperand
            | '{' (expr (',' expr)*)? '}'         # setOperand
            | STRING                              # stringOperand
            | INT IDENT?                          # numberOperand
            | ('true' | 'false')                  # boolOperand
            | IDENT ':' STRING                    # hashOperand
            | path                                # pathOperand
            ;
path        : root=pathRoot ('.' anyName)* ;
pathRoot    : IDENT | 'agent' | 'data' | 'tool' | 'request' ;

name        : IDENT ;
qualName    : leadName ('.' anyName)* ;
leadName    : IDENT | 'data' | 'read' | 'write' | 'send' | 'test' | 'set' | 'group' | 'label' | 'version' | 'policy'
            | 'kernels' | 'request' | 'consent' | 'sink' | 'pin' ;
anyName     : IDENT | 'policy' | 'version' | 'by' | 'principal' | 'governs' | 'import' | 'label' | 'agent' | 'data'
            | 'kernels' | 'attribute' | 'tool' | 'set' | 'group' | 'require' | 'consent' | 'for' | 'permit' | 'forbid' | 'assert'
            | 'never' | 'always' | 'deny' | 'allow' | 'read' | 'write' | 'send' | 'from' | 'to' | 'when' | 'limit'
            | 'per' | 'obligation' | 'returns' | 'sink' | 'pin' | 'test' | 'request' | 'expect' | 'and' | 'or'
            | 'not' | 'in' | 'like' | 'startswith' | 'has' | 'true' | 'false' ;

// ---------------------------------------------------------------------------------------------------------------
// Tokens. The three error tokens let the converter report lexical mistakes with a location instead of ANTLR's
// generic recovery messages.

IDENT       : [a-zA-Z_] [a-zA-Z_0-9]* ;
INT         : [0-9]+ ;
STRING      : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;
UNTERMINATED_STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* '\\'? ;
LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
UNTERMINATED_COMMENT : '/*' (~'*' | '*'+ ~[*/])* '*'* EOF ;
WS          : [ \t\r\n]+ -> skip ;
ERROR_CHAR  : . ;
