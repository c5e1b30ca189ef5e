"""A small reader for V2000 SDF files (MDL molfile records + data fields).

Only what the solubility set uses: the atom block (element, charge), the
bond block (two atom numbers and a bond order), ``M  CHG`` lines and
``>  <FIELD>`` data items. No RDKit: hydrogens that the file leaves implicit
are counted from a standard valence table, which is all the node features
need.
"""

import dataclasses

# Bond orders in the V2000 bond block: 1 single, 2 double, 3 triple,
# 4 aromatic (the solubility files are kekulized, so 4 does not occur).
BOND_ORDERS = (1, 2, 3, 4)
_BOND_VALENCE = {1: 1.0, 2: 2.0, 3: 3.0, 4: 1.5}
# Allowed valences of neutral atoms, smallest first.
_VALENCES = {
  'H': (1,),
  'B': (3,),
  'C': (4,),
  'N': (3, 5),
  'O': (2,),
  'F': (1,),
  'Si': (4,),
  'P': (3, 5),
  'S': (2, 4, 6),
  'Cl': (1,),
  'Br': (1,),
  'I': (1, 3, 5),
  'Sn': (4,),
}
# Old-style charge codes of the atom block (superseded by 'M  CHG').
_ATOM_BLOCK_CHARGE = {0: 0, 1: 3, 2: 2, 3: 1, 4: 0, 5: -1, 6: -2, 7: -3}


class SdfError(ValueError):
  """A record that does not follow the V2000 layout."""


@dataclasses.dataclass
class Molecule:
  name: str
  elements: list[str]
  charges: list[int]
  # (first atom, second atom, bond order), atoms numbered from 0.
  bonds: list[tuple[int, int, int]]
  fields: dict[str, str]

  @property
  def num_atoms(self) -> int:
    return len(self.elements)

  def degrees(self) -> list[int]:
    degree = [0] * self.num_atoms
    for a, b, _ in self.bonds:
      degree[a] += 1
      degree[b] += 1
    return degree

  def implicit_hydrogens(self) -> list[int]:
    """Hydrogens left implicit, from the smallest valence that fits."""
    used = [0.0] * self.num_atoms
    for a, b, order in self.bonds:
      used[a] += _BOND_VALENCE[order]
      used[b] += _BOND_VALENCE[order]
    counts = []
    for element, charge, valence in zip(self.elements, self.charges, used):
      counts.append(_implicit_h(element, charge, valence))
    return counts


def _implicit_h(element: str, charge: int, used: float) -> int:
  if element not in _VALENCES:
    return 0  # Metals and rare elements: no implicit hydrogens.
  # Charged atoms behave like their isoelectronic neighbours: N+ like C,
  # O- like F; carbon loses one valence per unit of charge either way.
  shift = -abs(charge) if element == 'C' else charge
  for valence in _VALENCES[element]:
    target = valence + shift
    if target >= used:
      return round(target - used)
  return 0


def parse_sdf(text: str) -> list[Molecule]:
  """Parses every record of an SDF text.

  Raises:
    SdfError: a record is malformed; the message names the record number.
  """
  molecules = []
  records = text.replace('\r\n', '\n').split('$$$$')
  for number, record in enumerate(records, start=1):
    if not record.strip():
      continue
    try:
      molecules.append(_parse_record(record.lstrip('\n').split('\n')))
    except (IndexError, ValueError) as e:
      raise SdfError(f'SDF record {number}: {e}') from e
  return molecules


def _parse_record(lines: list[str]) -> Molecule:
  counts = lines[3]
  if 'V3000' in counts:
    raise SdfError('V3000 molfiles are not supported (expected V2000)')
  num_atoms, num_bonds = int(counts[0:3]), int(counts[3:6])
  elements, charges = [], []
  for line in lines[4 : 4 + num_atoms]:
    elements.append(line[31:34].strip())
    code = int(line[36:39]) if line[36:39].strip() else 0
    charges.append(_ATOM_BLOCK_CHARGE.get(code, 0))
  bonds = []
  for line in lines[4 + num_atoms : 4 + num_atoms + num_bonds]:
    a, b, order = int(line[0:3]) - 1, int(line[3:6]) - 1, int(line[6:9])
    if order not in BOND_ORDERS:
      raise SdfError(f'bond order {order} (expected one of {BOND_ORDERS})')
    bonds.append((a, b, order))
  rest = lines[4 + num_atoms + num_bonds :]
  charge_lines = [line for line in rest if line.startswith('M  CHG')]
  if charge_lines:
    charges = [0] * num_atoms  # 'M  CHG' replaces the atom-block charges.
    for line in charge_lines:
      values = [int(v) for v in line[6:].split()]
      for atom, charge in zip(values[1::2], values[2::2]):
        charges[atom - 1] = charge
  return Molecule(
    lines[0].strip(), elements, charges, bonds, _parse_fields(rest)
  )


def _parse_fields(lines: list[str]) -> dict[str, str]:
  """Data items: a '>  <NAME>' header, value lines, then a blank line."""
  fields, name, values = {}, None, []
  for line in lines:
    if line.startswith('>'):
      start, stop = line.find('<'), line.find('>', line.find('<'))
      name, values = line[start + 1 : stop], []
    elif name is not None and not line.strip():
      fields[name] = '\n'.join(values)
      name = None
    elif name is not None:
      values.append(line)
  if name is not None:
    fields[name] = '\n'.join(values)
  return fields
