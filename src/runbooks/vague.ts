// The seed's "Too vague" anti-pattern: an instruction like "Investigate the issue" or "Check system"
// tells a 3 AM responder nothing. A step is vague when every instruction in it is such a phrase: a
// generic verb with at most a generic object. "Check for missing indexes on recent queries" is concrete.

const VERB = '(?:investigate|check|look (?:into|at)|fix|debug|troubleshoot|resolve|handle|address|examine|review|analy[sz]e|diagnose|sort out|figure out|deal with|monitor|inspect|verify|mitigate|restart|escalate)';
const DETERMINER = '(?:the|a|an|this|that|any|all|whatever)';
const OBJECT = '(?:issue|issues|problem|problems|system|systems|it|things?|everything|error|errors|situation|root cause|cause|logs?|stuff|service|services|failure|incident|alert|whatever is wrong)';
const SUFFIX = '(?:as needed|if needed|as necessary|if necessary|accordingly|asap|quickly|carefully|manually|further|first|again)';
const VAGUE = new RegExp(`^(?:please )?${VERB}(?: ${DETERMINER})?(?: ${OBJECT})?(?: ${SUFFIX})?$`);
const ASSUMED_KNOWLEDGE = /^(?:you know (?:how to do )?(?:this|what to do)|do the usual|as usual|use (?:common sense|your judg(?:e)?ment)|tbd|todo|n\/a|\.\.\.|see above)$/;

const SENTENCE_END = /(?<=[.!?])\s+/;

/** Whether one instruction (a line or a list item, markdown allowed) is only a vague phrase. */
export function isVagueInstruction(instruction: string): boolean {
  const parts = normalise(instruction)
    .split(/\s*(?:,|;|\band then\b|\bthen\b|\band\b)\s*/)
    .filter((p) => p !== '');
  return parts.length > 0 && parts.every((p) => VAGUE.test(p) || ASSUMED_KNOWLEDGE.test(p));
}

/** Whether a step's prose consists only of vague instructions (empty prose is not vague: it is missing). */
export function isVagueProse(prose: string): boolean {
  const instructions = prose
    .split('\n')
    .map((line) => line.replace(/^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s*)?/, '').trim())
    // "Investigate the issue. Check system." is two instructions typed on one line.
    .flatMap((line) => line.split(SENTENCE_END))
    .filter((line) => line.trim() !== '');
  return instructions.length > 0 && instructions.every(isVagueInstruction);
}

function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[*_`>#]/g, '')
    .replace(/[.!?:]+$/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
