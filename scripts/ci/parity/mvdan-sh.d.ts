/** The part of mvdan-sh (mvdan/sh's parser compiled to JavaScript) the parity test uses; it ships no types. */
declare module "mvdan-sh" {
  export interface Position {
    Offset(): number;
  }
  export interface Node {
    Pos(): Position;
    End(): Position;
    [field: string]: unknown;
  }
  export interface Syntax {
    NewParser(): { Parse(source: string, name: string): Node };
    Walk(node: Node, visit: (node: Node | null) => boolean): void;
    NodeType(node: Node): string;
  }
  const sh: { syntax: Syntax };
  export default sh;
}
