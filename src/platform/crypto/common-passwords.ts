/**
 * The most used passwords (from public breach-frequency lists), compared after normalising: lower-cased, with
 * leading/trailing digits and symbols and common leet substitutions removed, so `P@ssw0rd2024!` matches
 * `password`. Enough to refuse what attackers try first; a full breach corpus check needs an outside service.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  `password passw0rd pass motdepasse azerty azertyuiop qwerty qwertyuiop qwertz letmein welcome welcom admin
administrator root toor login master secret iloveyou princess dragon monkey football baseball soccer hockey
superman batman trustno1 sunshine shadow michael jennifer jordan hunter ranger buster thomas robert daniel
starwars whatever freedom killer charlie george summer winter spring autumn hello hello123 abc abcd abcdef
abcdefgh abcdefghij changeme default guest test tester testing user username access qazwsx zaq1zaq1 zxcvbnm
asdfgh asdfghjkl qweasd qweasdzxc 1q2w3e4r 1qaz2wsx q1w2e3r4 passpass mypassword password1 bonjour soleil
chocolat doudou loulou marseille paris france nicolas julien camille marie pierre jeanne coucou tigrou
babygirl lovely love loveme baby angel angels flower cookie pepper ginger maggie matrix computer internet
samsung apple google microsoft facebook linkedin massacorp company entreprise societe welcome1 letmein1
secret1 admin1 administrateur utilisateur orange banane fromage pokemon naruto minecraft fortnite cheese
mustang harley ferrari porsche corvette yankees liverpool chelsea arsenal barcelona realmadrid juventus`
    .split(/\s+/)
    .filter(Boolean),
);

const LEET: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
};

export function normaliseForCommonCheck(password: string): string[] {
  const lower = password.toLowerCase();
  const stripped = lower.replace(/^[^a-z]+|[^a-z]+$/g, '');
  const unleet = (v: string) => v.replace(/[013457@$!]/g, (c) => LEET[c] ?? c);
  // Strip the usual decorations first ("P@ssw0rd2024!" -> "p@ssw0rd"), then undo leet -> "password".
  const deleet = unleet(stripped);
  return [
    lower,
    stripped,
    deleet,
    unleet(lower).replace(/^[^a-z]+|[^a-z]+$/g, ''),
    stripped.replace(/[^a-z]/g, ''),
  ];
}

export function isCommonPassword(password: string): boolean {
  if (/^(.)\1+$/.test(password) || /^(0123456789|123456789|12345678|1234567890|987654321)/.test(password))
    return true;
  return normaliseForCommonCheck(password).some((v) => v.length > 0 && COMMON_PASSWORDS.has(v));
}
