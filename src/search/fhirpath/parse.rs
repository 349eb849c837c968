//! The FHIRPath parser: text -> `Node` tree, by precedence climbing over the grammar of
//! FHIRPath N1 §"Grammar", limited to what `eval` can evaluate. Anything else (arithmetic,
//! date and quantity literals, unknown functions) is a `ParseError`. Depends on `regex`.

use std::fmt;

use regex::Regex;

use super::lex::{Tok, error, lex};

/// Why an expression cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the expression.
    pub position: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.message, self.position)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug)]
pub(super) enum Node {
    Empty,
    Bool(bool),
    Str(String),
    Int(i64),
    Dec(f64),
    This,
    Var(Var),
    /// `name` navigated from `base`, or from the focus; at the start of a path an
    /// upper-case name is a type (`Patient.name`) and filters the focus.
    Member {
        base: Option<Box<Node>>,
        name: String,
    },
    Call {
        base: Option<Box<Node>>,
        func: Func,
    },
    Index {
        base: Box<Node>,
        index: Box<Node>,
    },
    Binary {
        op: BinOp,
        left: Box<Node>,
        right: Box<Node>,
    },
    /// `x is T` (`as_: false`) or `x as T`.
    TypeOp {
        as_: bool,
        operand: Box<Node>,
        ty: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Var {
    Resource,
    Context,
    Str(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BinOp {
    Union,
    Eq,
    Ne,
    Equiv,
    NotEquiv,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

#[derive(Debug)]
pub(super) enum Func {
    Where(Box<Node>),
    Select(Box<Node>),
    All(Box<Node>),
    Exists(Option<Box<Node>>),
    Empty,
    Not,
    First,
    Last,
    Tail,
    Count,
    Distinct,
    HasValue,
    Resolve,
    OfType(String),
    Is(String),
    Extension(Box<Node>),
    StartsWith(Box<Node>),
    EndsWith(Box<Node>),
    ContainsStr(Box<Node>),
    Matches(Regex),
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

/// Parse a whole expression.
pub(super) fn parse(text: &str) -> Result<Node, ParseError> {
    let mut p = Parser {
        toks: lex(text)?,
        pos: 0,
    };
    let node = p.expr(0)?;
    match p.peek() {
        Tok::End => Ok(node),
        other => Err(p.unexpected(&other.clone())),
    }
}

/// Binary operators by precedence level, loosest first (FHIRPath N1 §"Operator precedence").
fn binary_op(tok: &Tok, level: usize) -> Option<BinOp> {
    let op = match (tok, level) {
        (Tok::Ident(w), 0) if w == "implies" => BinOp::Implies,
        (Tok::Ident(w), 1) if w == "or" => BinOp::Or,
        (Tok::Ident(w), 1) if w == "xor" => BinOp::Xor,
        (Tok::Ident(w), 2) if w == "and" => BinOp::And,
        (Tok::Ident(w), 3) if w == "in" => BinOp::In,
        (Tok::Ident(w), 3) if w == "contains" => BinOp::Contains,
        (Tok::Sym("="), 4) => BinOp::Eq,
        (Tok::Sym("!="), 4) => BinOp::Ne,
        (Tok::Sym("~"), 4) => BinOp::Equiv,
        (Tok::Sym("!~"), 4) => BinOp::NotEquiv,
        (Tok::Sym("<"), 5) => BinOp::Lt,
        (Tok::Sym("<="), 5) => BinOp::Le,
        (Tok::Sym(">"), 5) => BinOp::Gt,
        (Tok::Sym(">="), 5) => BinOp::Ge,
        (Tok::Sym("|"), 6) => BinOp::Union,
        _ => return None,
    };
    Some(op)
}

/// The level of the type operators `is`/`as`, tighter than `|`.
const TYPE_LEVEL: usize = 7;

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::End, |(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(0, |(_, o)| *o)
    }

    fn next(&mut self) -> Tok {
        let tok = self.peek().clone();
        self.pos += 1;
        tok
    }

    fn unexpected(&self, tok: &Tok) -> ParseError {
        let what = match tok {
            Tok::End => "unexpected end of expression".to_owned(),
            Tok::Sym(s) => format!("unexpected `{s}`"),
            Tok::Ident(w) | Tok::Quoted(w) => format!("unexpected `{w}`"),
            other => format!("unexpected {other:?}"),
        };
        error(self.offset(), what)
    }

    fn expect(&mut self, sym: &'static str) -> Result<(), ParseError> {
        if self.peek() == &Tok::Sym(sym) {
            self.pos += 1;
            Ok(())
        } else {
            Err(error(self.offset(), format!("expected `{sym}`")))
        }
    }

    fn expr(&mut self, level: usize) -> Result<Node, ParseError> {
        if level == TYPE_LEVEL {
            return self.type_expr();
        }
        let mut left = self.expr(level + 1)?;
        while let Some(op) = binary_op(self.peek(), level) {
            self.pos += 1;
            let right = self.expr(level + 1)?;
            left = Node::Binary {
                op,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok(left)
    }

    fn type_expr(&mut self) -> Result<Node, ParseError> {
        let mut node = self.postfix()?;
        loop {
            let as_ = match self.peek() {
                Tok::Ident(w) if w == "is" => false,
                Tok::Ident(w) if w == "as" => true,
                _ => return Ok(node),
            };
            self.pos += 1;
            let ty = self.type_specifier()?;
            node = Node::TypeOp {
                as_,
                operand: Box::new(node),
                ty,
            };
        }
    }

    /// `Quantity`, `FHIR.Quantity` or `System.String`: the name without its namespace.
    fn type_specifier(&mut self) -> Result<String, ParseError> {
        let mut name = match self.next() {
            Tok::Ident(w) | Tok::Quoted(w) => w,
            other => return Err(self.unexpected(&other)),
        };
        if (name == "FHIR" || name == "System") && self.peek() == &Tok::Sym(".") {
            self.pos += 1;
            name = match self.next() {
                Tok::Ident(w) | Tok::Quoted(w) => w,
                other => return Err(self.unexpected(&other)),
            };
        }
        Ok(name)
    }

    fn postfix(&mut self) -> Result<Node, ParseError> {
        if let Tok::Sym(s @ ("+" | "-")) = self.peek() {
            return Err(error(self.offset(), format!("unsupported operator `{s}`")));
        }
        let mut node = self.term()?;
        loop {
            match self.peek() {
                Tok::Sym(".") => {
                    self.pos += 1;
                    node = self.invocation(Some(node))?;
                }
                Tok::Sym("[") => {
                    self.pos += 1;
                    let index = self.expr(0)?;
                    self.expect("]")?;
                    node = Node::Index {
                        base: Box::new(node),
                        index: Box::new(index),
                    };
                }
                Tok::Sym(s @ ("+" | "-" | "*" | "/" | "&")) => {
                    return Err(error(self.offset(), format!("unsupported operator `{s}`")));
                }
                Tok::Ident(w) if w == "div" || w == "mod" => {
                    return Err(error(self.offset(), format!("unsupported operator `{w}`")));
                }
                _ => return Ok(node),
            }
        }
    }

    fn term(&mut self) -> Result<Node, ParseError> {
        let offset = self.offset();
        match self.peek().clone() {
            Tok::Str(s) => {
                self.pos += 1;
                Ok(Node::Str(s))
            }
            Tok::Int(n) => {
                self.pos += 1;
                Ok(Node::Int(n))
            }
            Tok::Dec(d) => {
                self.pos += 1;
                Ok(Node::Dec(d))
            }
            Tok::This => {
                self.pos += 1;
                Ok(Node::This)
            }
            Tok::Var(name) => {
                self.pos += 1;
                let var = match name.as_str() {
                    "resource" | "rootResource" => Var::Resource,
                    "context" => Var::Context,
                    "ucum" => Var::Str("http://unitsofmeasure.org"),
                    "sct" => Var::Str("http://snomed.info/sct"),
                    "loinc" => Var::Str("http://loinc.org"),
                    _ => return Err(error(offset, format!("unsupported variable `%{name}`"))),
                };
                Ok(Node::Var(var))
            }
            Tok::Sym("(") => {
                self.pos += 1;
                let inner = self.expr(0)?;
                self.expect(")")?;
                Ok(inner)
            }
            Tok::Sym("{") => {
                self.pos += 1;
                self.expect("}")?;
                Ok(Node::Empty)
            }
            Tok::Ident(w) if w == "true" || w == "false" => {
                self.pos += 1;
                Ok(Node::Bool(w == "true"))
            }
            Tok::Ident(_) | Tok::Quoted(_) => self.invocation(None),
            other => Err(self.unexpected(&other)),
        }
    }

    /// A member name or a function call, applied to `base` (or the focus).
    fn invocation(&mut self, base: Option<Node>) -> Result<Node, ParseError> {
        let offset = self.offset();
        let (name, quoted) = match self.next() {
            Tok::Ident(w) => (w, false),
            Tok::Quoted(w) => (w, true),
            other => {
                self.pos -= 1;
                return Err(self.unexpected(&other));
            }
        };
        let base = base.map(Box::new);
        if quoted || self.peek() != &Tok::Sym("(") {
            return Ok(Node::Member { base, name });
        }
        self.pos += 1;
        let func = self.function(&name, offset)?;
        self.expect(")")?;
        Ok(Node::Call { base, func })
    }

    /// The arguments of function `name` (after its `(`, up to its `)`).
    fn function(&mut self, name: &str, offset: usize) -> Result<Func, ParseError> {
        let closing = self.peek() == &Tok::Sym(")");
        let arity = |n: usize, p: &Parser| {
            if closing == (n == 0) {
                Ok(())
            } else {
                Err(error(p.offset(), format!("`{name}` takes {n} argument(s)")))
            }
        };
        let func = match name {
            "empty" | "not" | "first" | "last" | "tail" | "count" | "distinct" | "hasValue"
            | "resolve" => {
                arity(0, self)?;
                match name {
                    "empty" => Func::Empty,
                    "not" => Func::Not,
                    "first" => Func::First,
                    "last" => Func::Last,
                    "tail" => Func::Tail,
                    "count" => Func::Count,
                    "distinct" => Func::Distinct,
                    "hasValue" => Func::HasValue,
                    _ => Func::Resolve,
                }
            }
            "exists" if closing => Func::Exists(None),
            "exists" => Func::Exists(Some(Box::new(self.expr(0)?))),
            "ofType" | "as" | "is" => {
                arity(1, self)?;
                let ty = self.type_specifier()?;
                if name == "is" {
                    Func::Is(ty)
                } else {
                    Func::OfType(ty)
                }
            }
            "matches" => {
                arity(1, self)?;
                let pattern = match self.next() {
                    Tok::Str(s) => s,
                    _ => return Err(error(offset, "`matches` needs a literal pattern")),
                };
                let regex = Regex::new(&pattern)
                    .map_err(|e| error(offset, format!("invalid pattern: {e}")))?;
                Func::Matches(regex)
            }
            "where" | "select" | "all" | "extension" | "startsWith" | "endsWith" | "contains" => {
                arity(1, self)?;
                let arg = Box::new(self.expr(0)?);
                match name {
                    "where" => Func::Where(arg),
                    "select" => Func::Select(arg),
                    "all" => Func::All(arg),
                    "extension" => Func::Extension(arg),
                    "startsWith" => Func::StartsWith(arg),
                    "endsWith" => Func::EndsWith(arg),
                    _ => Func::ContainsStr(arg),
                }
            }
            _ => return Err(error(offset, format!("unsupported function `{name}`"))),
        };
        Ok(func)
    }
}
