# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Win32_NTLogEvent (root/cimv2): the records of the classic event logs, with the property names and types of the
Windows class. Keys Logfile and RecordNumber; ``Data`` is a byte array, ``InsertionStrings`` a string array.
``eventlog`` writes the instances.
"""

from .schema import cim_class

WIN32_NT_LOG_EVENT = cim_class(
    "root/cimv2", "Win32_NTLogEvent", keys=("Logfile", "RecordNumber"), properties="""
    Category:uint16 CategoryString:string ComputerName:string Data:uint8[] EventCode:uint16 EventIdentifier:uint32
    EventType:uint8 InsertionStrings:string[] Logfile:string Message:string RecordNumber:uint32 SourceName:string
    TimeGenerated:datetime TimeWritten:datetime Type:string User:string
    """)

CLASSES = (WIN32_NT_LOG_EVENT,)
